/*
 * The vector loop of stage two, included by _stage_two.c once per instruction set: the
 * includer defines KERNEL(name), which gives this variant's functions their own names, and
 * compiles it for the matching target; KERNEL is undefined again at the end.
 *
 * A series is `days` vectors, one per day, each holding that day's value for eight meters
 * (NaN where missing). Counts are kept as doubles (exact for any count of days).
 */

#define F(name) KERNEL(name)
#define INLINE __attribute__((always_inline)) static inline

INLINE V F(pick)(M mask, V yes, V no) { return (V)(((M)yes & mask) | ((M)no & ~mask)); }
INLINE V F(count)(M mask) { return F(pick)(mask, SPLAT(1.0), SPLAT(0.0)); }
INLINE M F(present)(V v) { return v == v; }
INLINE M F(finite)(V v) { return (v - v) == SPLAT(0.0); }
INLINE V F(absolute)(V v) { return (V)((M)v & ~(M)SPLAT(-0.0)); }
INLINE int F(any)(M mask) {
    int64_t lanes[LANES];
    memcpy(lanes, &mask, sizeof lanes);
    for (int l = 0; l < LANES; l++)
        if (lanes[l]) return 1;
    return 0;
}
INLINE V F(root)(V v) {
    V out;
    for (int l = 0; l < LANES; l++) out[l] = sqrt(v[l]);
    return out;
}
/* numpy's maximum: NaN if either is NaN. */
INLINE V F(nan_max)(V a, V b) {
    return F(pick)(F(present)(a) & F(present)(b), F(pick)(a > b, a, b), SPLAT(NAN));
}
/* numpy's nan_to_num: NaN to `nan`, the infinities to the largest finite values. */
INLINE V F(clean)(V v, double nan) {
    V out = F(pick)(F(present)(v), v, SPLAT(nan));
    out = F(pick)(v == SPLAT(INFINITY), SPLAT(DBL_MAX), out);
    return F(pick)(v == SPLAT(-INFINITY), SPLAT(-DBL_MAX), out);
}
INLINE V F(day_index)(int k) { return SPLAT((double)k); }

/* rank + 1 in the lanes where v ranks below x (v <= x when `or_equal`, else v < x). With
 * AVX-512 the comparison's mask drives the addition itself. */
INLINE M F(add_if)(M rank, V v, V x, int or_equal) {
#if defined(__AVX512F__)
    __mmask8 below = or_equal ? _mm512_cmp_pd_mask((__m512d)v, (__m512d)x, _CMP_LE_OQ)
                              : _mm512_cmp_pd_mask((__m512d)v, (__m512d)x, _CMP_LT_OQ);
    return (M)_mm512_mask_sub_epi64((__m512i)rank, below, (__m512i)rank,
                                    _mm512_set1_epi64(-1));
#else
    return rank - (or_equal ? v <= x : v < x);
#endif
}

/* The value of rank `rank` (per lane, counted from 0) among the present values of `s`.
 * Each value's rank is counted against the others (ties broken by position), without a
 * branch: for a few dozen days this beats sorting eight series apart. Four values are ranked
 * in one pass over the others, which each load serves four times. NaN where no value has
 * that rank. */
static V F(ranked)(const V *s, int days, M want_low, M want_high, V *high) {
    V low = SPLAT(NAN), top = SPLAT(NAN);
    int i = 0;
    for (; i + 4 <= days; i += 4) {
        V x[4] = {s[i], s[i + 1], s[i + 2], s[i + 3]};
        M r0 = (M){0}, r1 = (M){0}, r2 = (M){0}, r3 = (M){0};
        for (int j = 0; j < i; j++) {
            V v = s[j];
            r0 = F(add_if)(r0, v, x[0], 1);
            r1 = F(add_if)(r1, v, x[1], 1);
            r2 = F(add_if)(r2, v, x[2], 1);
            r3 = F(add_if)(r3, v, x[3], 1);
        }
        /* Within the four: an earlier equal value ranks below, a later one above. */
        r0 -= (x[1] < x[0]) + (x[2] < x[0]) + (x[3] < x[0]);
        r1 -= (x[0] <= x[1]) + (x[2] < x[1]) + (x[3] < x[1]);
        r2 -= (x[0] <= x[2]) + (x[1] <= x[2]) + (x[3] < x[2]);
        r3 -= (x[0] <= x[3]) + (x[1] <= x[3]) + (x[2] <= x[3]);
        for (int j = i + 4; j < days; j++) {
            V v = s[j];
            r0 = F(add_if)(r0, v, x[0], 0);
            r1 = F(add_if)(r1, v, x[1], 0);
            r2 = F(add_if)(r2, v, x[2], 0);
            r3 = F(add_if)(r3, v, x[3], 0);
        }
        M rank[4] = {r0, r1, r2, r3};
        for (int c = 0; c < 4; c++) {
            M here = F(present)(x[c]);
            low = F(pick)(here & (rank[c] == want_low), x[c], low);
            top = F(pick)(here & (rank[c] == want_high), x[c], top);
        }
    }
    for (; i < days; i++) {
        V x = s[i];
        M rank = (M){0};
        for (int j = 0; j < i; j++) rank -= s[j] <= x;
        for (int j = i + 1; j < days; j++) rank -= s[j] < x;
        M here = F(present)(x);
        low = F(pick)(here & (rank == want_low), x, low);
        top = F(pick)(here & (rank == want_high), x, top);
    }
    *high = top;
    return low;
}

static V F(how_many)(const V *s, int days) {
    V n = SPLAT(0.0);
    for (int k = 0; k < days; k++) n += F(count)(F(present)(s[k]));
    return n;
}

/* The median of the present values (the mean of the two middle ones); NaN if none. */
static V F(median)(const V *s, int days) {
    M n = __builtin_convertvector(F(how_many)(s, days), M);
    V high; /* a lane with no values ranks none of them: NaN */
    V low = F(ranked)(s, days, (n - 1) >> 1, n >> 1, &high);
    return 0.5 * (low + high);
}

/* The q quantile of the present values (the lower of two neighbours); NaN if none. */
static V F(quantile)(const V *s, int days, double q) {
    V n = F(how_many)(s, days);
    M rank;
    for (int l = 0; l < LANES; l++) {
        double at = floor(q * (n[l] - 1));
        rank[l] = n[l] > 0 ? (at > 0 ? (int64_t)at : 0) : -1;
    }
    V unused;
    return F(ranked)(s, days, rank, rank, &unused);
}

static V F(mean)(const V *s, int days) {
    V total = SPLAT(0.0), n = SPLAT(0.0);
    for (int k = 0; k < days; k++) {
        M here = F(present)(s[k]);
        total += F(pick)(here, s[k], SPLAT(0.0));
        n += F(count)(here);
    }
    return F(pick)(n > 0, total / n, SPLAT(NAN));
}

static V F(std)(const V *s, int days) {
    V mean = F(mean)(s, days), total = SPLAT(0.0), n = SPLAT(0.0);
    for (int k = 0; k < days; k++) {
        M here = F(present)(s[k]);
        V d = s[k] - mean;
        total += F(pick)(here, d * d, SPLAT(0.0));
        n += F(count)(here);
    }
    return F(pick)(n > 0, F(root)(total / n), SPLAT(NAN));
}

/* Pearson correlation over the positions where both are present (at least four). */
static V F(corr)(const V *a, const V *b, int days) {
    V sa = SPLAT(0.0), sb = SPLAT(0.0), n = SPLAT(0.0);
    for (int k = 0; k < days; k++) {
        M both = F(present)(a[k]) & F(present)(b[k]);
        sa += F(pick)(both, a[k], SPLAT(0.0));
        sb += F(pick)(both, b[k], SPLAT(0.0));
        n += F(count)(both);
    }
    V ma = sa / n, mb = sb / n, num = SPLAT(0.0), va = SPLAT(0.0), vb = SPLAT(0.0);
    for (int k = 0; k < days; k++) {
        M both = F(present)(a[k]) & F(present)(b[k]);
        V da = a[k] - ma, db = b[k] - mb;
        num += F(pick)(both, da * db, SPLAT(0.0));
        va += F(pick)(both, da * da, SPLAT(0.0));
        vb += F(pick)(both, db * db, SPLAT(0.0));
    }
    V den = F(root)(va * vb);
    return F(pick)(n >= 4, F(pick)(den > 0, num / den, SPLAT(NAN)), SPLAT(NAN));
}

/* The change of y per unit of t over `scale` (NaN when t barely varies); each series is
 * centred on its own mean, the covariance counts the days both are known. */
static V F(slope)(const V *y, const V *t, int days, V scale) {
    V mt = F(mean)(t, days), my = F(mean)(y, days);
    V var = SPLAT(0.0), nv = SPLAT(0.0), cov = SPLAT(0.0), nc = SPLAT(0.0);
    for (int k = 0; k < days; k++) {
        M has_t = F(present)(t[k]), both = has_t & F(present)(y[k]);
        V dt = t[k] - mt;
        var += F(pick)(has_t, dt * dt, SPLAT(0.0));
        nv += F(count)(has_t);
        cov += F(pick)(both, dt * (y[k] - my), SPLAT(0.0));
        nc += F(count)(both);
    }
    var = var / nv;
    V per = F(pick)(nc > 0, cov / nc, SPLAT(NAN)) / var / scale;
    return F(pick)((nv > 0) & (var > 0.25), per, SPLAT(NAN));
}

/* The median of the valid days before `start`, or from `start` on when `after`. */
static V F(median_of)(const V *level, const M *valid, int days, V start, int after, V *work) {
    for (int k = 0; k < days; k++) {
        M side = after ? F(day_index)(k) >= start : F(day_index)(k) < start;
        work[k] = F(pick)(valid[k] & side, level[k], SPLAT(NAN));
    }
    return F(median)(work, days);
}

typedef struct {
    V start; /* the first day of the new level, -1 where none */
    V stat;  /* the step's strength */
    V base;  /* the level before it */
} KERNEL(Step);

/* The day a lasting step up in `level` begins (see _change_point in _per_meter.py). */
static KERNEL(Step) F(change_point)(const V *level, const M *valid, int days, double min_kw,
                                    V min_jump, double min_after, V *work) {
    KERNEL(Step) none = {SPLAT(-1.0), SPLAT(0.0), SPLAT(0.0)};
    if (days < 2) return none;
    for (int k = 0; k < days - 1; k++) {
        V change = F(absolute)(level[k + 1] - level[k]);
        work[k] = F(pick)(valid[k] & valid[k + 1], change, SPLAT(NAN));
    }
    work[days - 1] = SPLAT(NAN);
    V noise = F(median)(work, days) / 0.954 + 0.003 * F(absolute)(F(median)(level, days)) + 0.02;
    V total = SPLAT(0.0), n = SPLAT(0.0);
    for (int k = 0; k < days; k++) {
        total += F(pick)(valid[k], level[k], SPLAT(0.0));
        n += F(count)(valid[k]);
    }
    V weight_n = F(pick)(n > 1.0, n, SPLAT(1.0));
    V cum = SPLAT(0.0), before_n = SPLAT(0.0);
    V best_stat = SPLAT(-INFINITY), best_at = SPLAT(0.0), rise_at = SPLAT(-1.0);
    V rise = SPLAT(-INFINITY);
    for (int k = 0; k < days - 1; k++) {
        cum += F(pick)(valid[k], level[k], SPLAT(0.0));
        before_n += F(count)(valid[k]);
        V after_n = n - before_n;
        V delta = (total - cum) / after_n - cum / before_n;
        V stat = delta / noise * F(root)(before_n * after_n / weight_n);
        M go = (before_n >= 2.0) & (after_n >= min_after) & F(finite)(stat);
        M better = go & (stat > best_stat);
        best_stat = F(pick)(better, stat, best_stat);
        best_at = F(pick)(better, F(day_index)(k), best_at);
        M rising = go & (stat > STAT_BAR) & (delta > rise);
        rise = F(pick)(rising, delta, rise);
        rise_at = F(pick)(rising, F(day_index)(k), rise_at);
    }
    V split = F(pick)(rise_at >= 0.0, rise_at, best_at);
    cum = SPLAT(0.0);
    before_n = SPLAT(0.0);
    for (int k = 0; k < days; k++) {
        M side = valid[k] & (F(day_index)(k) <= split);
        cum += F(pick)(side, level[k], SPLAT(0.0));
        before_n += F(count)(side);
    }
    V after_n = n - before_n;
    V before = F(pick)(before_n > 0, cum / before_n, SPLAT(NAN));
    V after = F(pick)(after_n > 0, (total - cum) / after_n, SPLAT(NAN));
    V jump = after - before;
    V stat = F(pick)((rise_at >= 0.0) | (best_stat > -INFINITY),
                     jump / noise * F(root)(before_n * after_n / weight_n), best_stat);
    M found = (stat > STAT_BAR) & (jump > min_kw) & (jump > 0.2 * F(nan_max)(after, SPLAT(1e-9))) &
              (jump >= min_jump);
    KERNEL(Step) step;
    step.start = F(pick)(found, split + 1.0, SPLAT(-1.0));
    step.stat = F(pick)(found | F(finite)(stat), stat, SPLAT(0.0));
    step.base = SPLAT(0.0);
    if (F(any)(found)) {
        V base = F(median_of)(level, valid, days, step.start, 0, work);
        base = F(pick)(F(finite)(base), base, F(clean)(before, 0.0));
        step.base = F(pick)(found, base, SPLAT(0.0));
    }
    return step;
}

/* The per-block working memory: every series of eight meters. */
typedef struct {
    V *figure[INPUTS];
    VF *hours; /* days × 24 */
    M *ok, *operating, *on, *earlier;
    V *signal, *floor, *valley, *daytime, *night, *temp;
    V *level_on, *floor_on, *temp_on, *block_on, *work, *work2;
    V threshold[HOURS], profile_even[HOURS], profile_odd[HOURS];
    int64_t *chunk, *local; /* where one meter's days are, while gathering */
} KERNEL(Block);

INLINE V F(hour_of)(const KERNEL(Block) * b, int k, int h) {
    return __builtin_convertvector(b->hours[k * HOURS + h], V);
}

/* The level hour `h` must pass to carry the new load, for the eight meters (taken once,
 * when `ready[h]` is still 0): half-way up from that hour's usual level before the start. */
static void F(threshold)(KERNEL(Block) * b, int days, int h, V start, V base, V rise,
                         int *ready) {
    if (ready[h]) return;
    ready[h] = 1;
    for (int k = 0; k < days; k++) {
        M before = b->ok[k] & (F(day_index)(k) < start);
        b->work2[k] = F(pick)(before, F(hour_of)(b, k, h), SPLAT(NAN));
    }
    V usual = F(median)(b->work2, days);
    b->threshold[h] = F(pick)(F(present)(usual), usual, base) + 0.5 * rise;
}

/* Move each start back to the first step of the new load and find the hour it began (see
 * _refine_start in _per_meter.py). Lanes in `has` have a start; others are left alone. */
static void F(refine_start)(KERNEL(Block) * b, int days, M has, double min_kw, V *start,
                            V *hour) {
    const M *valid = b->ok;
    V after = F(median_of)(b->night, valid, days, *start, 1, b->work);
    V rise = F(nan_max)(after - F(clean)(F(median_of)(b->night, valid, days, *start, 0, b->work), 0.0),
                        SPLAT(0.0));
    V min_jump = F(nan_max)(0.02 * rise, SPLAT(3 * min_kw));
    M active = has;
    for (int round = 0; round < 4 && F(any)(active); round++) {
        for (int k = 0; k < days; k++) {
            b->earlier[k] = valid[k] & (F(day_index)(k) < *start);
            b->work2[k] = F(pick)(b->earlier[k], b->night[k], SPLAT(NAN));
        }
        KERNEL(Step) sub = F(change_point)(b->work2, b->earlier, days, min_kw, min_jump, 1.0, b->work);
        active &= (sub.start >= 0.0) & (sub.start < *start);
        *start = F(pick)(active, sub.start, *start);
    }
    V base = F(clean)(F(median_of)(b->night, valid, days, *start, 0, b->work), 0.0);
    rise = F(nan_max)(after - base, SPLAT(0.0));
    /* Hour by hour against the same hour before the start (an evening peak is not a rig).
     * An hour's threshold is taken when a meter first needs it: most meters look at a few
     * hours of two days. */
    const V settled = *start;
    int ready[HOURS] = {0};
    for (int l = 0; l < LANES; l++) {
        if (!has[l]) continue;
        int first = (int)settled[l], prev = first - 1, found = 0;
        (*hour)[l] = 0.0;
        if (prev >= 0 && valid[prev][l]) {
            int tail = 0;
            for (int h = HOURS - 1; h >= 0; h--) {
                F(threshold)(b, days, h, settled, base, rise, ready);
                if ((double)b->hours[prev * HOURS + h][l] > b->threshold[h][l])
                    tail++;
                else
                    break;
            }
            if (tail >= 1 && tail < HOURS) {
                (*start)[l] = prev;
                (*hour)[l] = HOURS - tail;
                found = 1;
            }
        }
        for (int h = 0; h < HOURS && !found; h++) {
            F(threshold)(b, days, h, settled, base, rise, ready);
            if ((double)b->hours[first * HOURS + h][l] > b->threshold[h][l]) {
                (*hour)[l] = h;
                found = 1;
            }
        }
    }
}

/* Gather the days of meters [first, first + LANES) (NaN where a day is absent or the meter
 * is past the end). */
static void F(gather)(KERNEL(Block) * b, int64_t meters, int64_t first, int days,
                      const int32_t *row_of, const int64_t *starts, const int64_t *figures,
                      const int64_t *hourly, const uint8_t *valid, const double *temperature,
                      const int32_t *temperature_row,
                      int64_t chunks) {
    for (int k = 0; k < days; k++) {
        for (int c = 0; c < INPUTS; c++) b->figure[c][k] = SPLAT(NAN);
        for (int h = 0; h < HOURS; h++)
            b->hours[k * HOURS + h] = (VF){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
        b->ok[k] = (M){0};
        b->temp[k] = SPLAT(NAN);
    }
    for (int l = 0; l < LANES && first + l < meters; l++) {
        int64_t i = first + l, chunk = 0;
        /* Where each day's row is (its chunk and place there), then column by column, so that
         * each column is read along its rows. */
        for (int k = 0; k < days; k++) {
            int64_t r = row_of[i * days + k];
            b->ok[k][l] = valid[i * days + k] ? -1 : 0;
            b->temp[k][l] = temperature[(int64_t)temperature_row[i] * days + k];
            b->chunk[k] = -1;
            if (r < 0) continue;
            if (r < starts[chunk] || r >= starts[chunk + 1]) chunk = chunk_of(starts, chunks, r);
            b->chunk[k] = chunk;
            b->local[k] = r - starts[chunk];
        }
        for (int c = 0; c < INPUTS; c++) {
            const int64_t *column = figures + c * chunks;
            for (int k = 0; k < days; k++)
                if (b->chunk[k] >= 0)
                    b->figure[c][k][l] = ((const float *)(intptr_t)column[b->chunk[k]])[b->local[k]];
        }
        for (int h = 0; h < HOURS; h++) {
            const int64_t *column = hourly + h * chunks;
            for (int k = 0; k < days; k++)
                if (b->chunk[k] >= 0)
                    b->hours[k * HOURS + h][l] =
                        from_bfloat16(((const uint16_t *)(intptr_t)column[b->chunk[k]])[b->local[k]]);
        }
    }
}

/* Every figure of the eight meters in block `b` (already gathered); writes rows
 * [first, first + size) of out. */
static void F(block_features)(KERNEL(Block) * b, int days, const int64_t *weekday, double min_kw,
                              double *out, int64_t meters, int64_t first, int size) {
    V n_valid = SPLAT(0.0);
    for (int k = 0; k < days; k++) {
        M live = b->ok[k];
        n_valid += F(count)(live);
        b->signal[k] = F(pick)(live, b->figure[MEAN][k], SPLAT(NAN));
        b->floor[k] = F(pick)(live, b->figure[FLOOR][k], SPLAT(NAN));
        b->valley[k] = F(pick)(live, b->figure[VALLEY][k], SPLAT(NAN));
        b->daytime[k] = F(pick)(live, b->figure[DAYTIME][k], SPLAT(NAN));
        b->night[k] = F(pick)(live, b->figure[NIGHT][k], SPLAT(NAN));
    }
    /* The start: read from the daily mean, the floor or the valley hours, whichever shows
     * the new load as the largest share of what follows. */
    V start = SPLAT(-1.0), start_t = SPLAT(0.0), best_share = SPLAT(-INFINITY);
    const V *series[3] = {b->signal, b->floor, b->valley};
    for (int c = 0; c < 3; c++) {
        KERNEL(Step) step = F(change_point)(series[c], b->ok, days, min_kw, SPLAT(0.0), 4.0, b->work);
        M began = step.start >= 0.0;
        V share = SPLAT(-INFINITY);
        if (F(any)(began)) {
            V after = F(median_of)(series[c], b->ok, days, step.start, 1, b->work);
            share = F(pick)(began, F(clean)((after - step.base) / after, 0.0), share);
        }
        M take = c == 0 ? (M){-1, -1, -1, -1, -1, -1, -1, -1} : share > best_share;
        best_share = F(pick)(take, share, best_share);
        start = F(pick)(take, step.start, start);
        start_t = F(pick)(take, step.stat, start_t);
    }
    M has = start >= 0.0;
    V start_hour = SPLAT(-1.0);
    V base = SPLAT(0.0);
    if (F(any)(has)) {
        F(refine_start)(b, days, has, min_kw, &start, &start_hour);
        base = F(clean)(F(median_of)(b->signal, b->ok, days, start, 0, b->work), 0.0);
        base = F(pick)(has, base, SPLAT(0.0));
    }
    V n_operating = SPLAT(0.0);
    for (int k = 0; k < days; k++) {
        b->operating[k] = b->ok[k] & (~has | (F(day_index)(k) >= start));
        n_operating += F(count)(b->operating[k]);
        b->work[k] = F(pick)(b->operating[k], b->signal[k], SPLAT(NAN));
    }
    V op_signal = F(median)(b->work, days);
    /* Curtailed days: the mean falls to less than half way between the base and the usual
     * (when the mean did not rise at all, every operating day counts). */
    V on_cut = F(pick)(op_signal > base, base + 0.5 * (op_signal - base), SPLAT(-INFINITY));
    V n_on = SPLAT(0.0), parity = SPLAT(0.0), n_even = SPLAT(0.0), n_odd = SPLAT(0.0);
    for (int h = 0; h < HOURS; h++) b->profile_even[h] = b->profile_odd[h] = SPLAT(0.0);
    for (int k = 0; k < days; k++) {
        M on = b->operating[k] & (b->signal[k] >= on_cut);
        b->on[k] = on;
        b->level_on[k] = F(pick)(on, b->signal[k], SPLAT(NAN));
        b->floor_on[k] = F(pick)(on, b->floor[k], SPLAT(NAN));
        b->temp_on[k] = F(pick)(on, b->temp[k], SPLAT(NAN));
        b->block_on[k] = F(pick)(on, b->valley[k] - b->daytime[k], SPLAT(NAN));
        if (!F(any)(on)) continue;
        n_on += F(count)(on);
        parity = F(pick)(on, 1.0 - parity, parity);
        /* The day's shape (hours over the day's mean), odd and even on-days apart: a load
         * that repeats its day shows the same shape in both. */
        M odd = on & (parity == 1.0), even = on & (parity == 0.0);
        n_odd += F(count)(odd);
        n_even += F(count)(even);
        VF mean32 = __builtin_convertvector(b->figure[MEAN][k], VF);
        for (int h = 0; h < HOURS; h++) {
            V v = __builtin_convertvector(b->hours[k * HOURS + h] / mean32, V);
            M fine = F(finite)(v);
            b->profile_odd[h] += F(pick)(odd & fine, v, SPLAT(0.0));
            b->profile_even[h] += F(pick)(even & fine, v, SPLAT(0.0));
        }
    }
    V level_kw = F(median)(b->level_on, days);
    V floor_kw = F(median)(b->floor_on, days);
    V mean_level = F(mean)(b->level_on, days);
    V base_floor = SPLAT(0.0);
    if (F(any)(has)) {
        for (int k = 0; k < days; k++)
            b->work[k] = F(pick)(b->ok[k] & (F(day_index)(k) < start), b->floor[k], SPLAT(NAN));
        base_floor = F(pick)(has, F(clean)(F(quantile)(b->work, days, 0.25), 0.0), SPLAT(0.0));
    }
    for (int k = 0; k < days; k++)
        b->work2[k] = F(pick)(b->on[k], b->figure[STD][k] / b->figure[MEAN][k], SPLAT(NAN));
    V flat_cv = F(median)(b->work2, days);
    for (int k = 0; k < days; k++)
        b->work2[k] = F(pick)(b->on[k], b->figure[ROUGH][k] / b->figure[MEAN][k], SPLAT(NAN));
    V rough = F(median)(b->work2, days);
    for (int k = 0; k < days; k++)
        b->work2[k] = F(pick)(b->on[k], b->figure[MEAN][k] / b->figure[MAX][k], SPLAT(NAN));
    V load_factor = F(median)(b->work2, days);
    for (int h = 0; h < HOURS; h++) {
        b->profile_even[h] /= n_even;
        b->profile_odd[h] /= n_odd;
    }
    V profile_corr = F(corr)(b->profile_even, b->profile_odd, HOURS);
    V high = SPLAT(-INFINITY), low = SPLAT(INFINITY);
    for (int h = 0; h < HOURS; h++) {
        V p = (b->profile_even[h] * n_even + b->profile_odd[h] * n_odd) / n_on;
        high = F(nan_max)(high, p);
        low = -F(nan_max)(-low, -p);
    }
    V profile_amp = F(pick)(n_on > 0.0, high - low, SPLAT(NAN));
    for (int k = 0; k < days; k++) {
        M weekend = (M){0} == (M){0};
        if (weekday[k] < 5) weekend = (M){0};
        b->work[k] = F(pick)(b->on[k] & weekend, b->signal[k], SPLAT(NAN));
        b->work2[k] = F(pick)(b->on[k] & ~weekend, b->signal[k], SPLAT(NAN));
    }
    V weekly_ratio = F(mean)(b->work, days) / F(mean)(b->work2, days) - 1.0;
    V temp_corr = F(corr)(b->level_on, b->temp_on, days);
    V floor_temp_corr = F(corr)(b->floor_on, b->temp_on, days);
    V temp_slope = F(slope)(b->level_on, b->temp_on, days, level_kw);
    V floor_temp_slope = F(slope)(b->floor_on, b->temp_on, days, floor_kw);
    /* A storage heater charges more on cold nights; rigs in the valley hours do not care. */
    V valley_temp_corr = F(corr)(b->block_on, b->temp_on, days);
    V valley_block_kw = F(nan_max)(F(median)(b->block_on, days), SPLAT(0.0));
    for (int k = 0; k < days; k++)
        b->work2[k] = F(pick)(b->on[k], b->figure[VALLEY_CV][k], SPLAT(NAN));
    V valley_flat = F(median)(b->work2, days);
    for (int k = 0; k < days; k++)
        b->work2[k] = F(pick)(b->on[k], b->daytime[k] / b->valley[k], SPLAT(NAN));
    V off_valley_share = F(median)(b->work2, days);
    /* Lasting steps up after the start (rigs added in batches); a rise from a curtailed day
     * back from near the base is a restart, not a new batch. */
    V size_kw = F(nan_max)(op_signal - base, SPLAT(1e-9));
    V steps = SPLAT(0.0);
    for (int k = 0; k < days - 1; k++) {
        V here = F(pick)(b->operating[k], b->signal[k], SPLAT(NAN));
        V there = F(pick)(b->operating[k + 1], b->signal[k + 1], SPLAT(NAN));
        V jump = there - here;
        M step = (jump > 0.08 * size_kw) & (here > base + 0.05 * size_kw);
        steps += F(count)(step);
        b->work2[k] = F(pick)(step, jump, SPLAT(NAN));
    }
    b->work2[days - 1] = SPLAT(NAN);
    V step_kw = F(median)(b->work2, days);

    V figures[OUTPUTS] = {
        n_valid,
        start,
        start_hour,
        start_t,
        base,
        level_kw,
        floor_kw,
        F(nan_max)(floor_kw - base_floor, SPLAT(0.0)),
        valley_block_kw,
        flat_cv,
        floor_kw / mean_level,
        F(std)(b->floor_on, days) / floor_kw,
        F(std)(b->level_on, days) / level_kw,
        rough,
        load_factor,
        profile_corr,
        profile_amp,
        weekly_ratio,
        temp_corr,
        temp_slope,
        floor_temp_corr,
        floor_temp_slope,
        valley_block_kw / mean_level,
        valley_temp_corr,
        valley_flat,
        F(std)(b->block_on, days) / valley_block_kw,
        off_valley_share,
        n_on / F(pick)(n_operating > 1.0, n_operating, SPLAT(1.0)),
        n_operating - n_on,
        steps,
        step_kw,
    };
    for (int l = 0; l < size; l++)
        for (int f = 0; f < OUTPUTS; f++) out[f * meters + first + l] = figures[f][l];
}

/* Ask for the stage-one rows of meters [first, first + LANES) ahead of their gathering: 33
 * columns are more streams than the processor follows on its own. One request per cache line
 * (sixteen rows) of each column. */
static void F(prefetch)(int64_t stop, int64_t first, int days, const int32_t *row_of,
                        const int64_t *starts, const int64_t *figures, const int64_t *hourly,
                        int64_t chunks) {
    int64_t chunk = 0, last_line = -1;
    for (int64_t i = first; i < first + LANES && i < stop; i++) {
        for (int k = 0; k < days; k++) {
            int64_t r = row_of[i * days + k];
            if (r < 0 || r / 16 == last_line) continue;
            last_line = r / 16;
            if (r < starts[chunk] || r >= starts[chunk + 1]) chunk = chunk_of(starts, chunks, r);
            int64_t local = r - starts[chunk];
            for (int c = 0; c < INPUTS; c++)
                __builtin_prefetch((const float *)(intptr_t)figures[c * chunks + chunk] + local);
            for (int h = 0; h < HOURS; h++)
                __builtin_prefetch((const float *)(intptr_t)hourly[h * chunks + chunk] + local);
        }
    }
}

static int F(meter_features)(int64_t start, int64_t stop, int32_t days,
                             int64_t chunks, const int32_t *row_of, const int64_t *starts,
                             const int64_t *figures, const int64_t *hourly, const uint8_t *valid,
                             const double *temperature, const int32_t *temperature_row,
                             const int64_t *weekday, double min_kw, int64_t meters, double *out) {
    enum { NAMED = 12, SERIES = INPUTS + NAMED, MASKS = 4 };
    size_t bytes = (size_t)days *
                   (SERIES * sizeof(V) + MASKS * sizeof(M) + HOURS * sizeof(VF) + 2 * sizeof(int64_t));
    char *memory = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!memory) return -1;
    KERNEL(Block) b;
    V *series = (V *)memory;
    for (int c = 0; c < INPUTS; c++) b.figure[c] = series + (size_t)c * days;
    V **named[] = {&b.signal,   &b.floor,    &b.valley,   &b.daytime, &b.night,
                   &b.temp,     &b.level_on, &b.floor_on, &b.temp_on, &b.block_on,
                   &b.work,     &b.work2};
    for (int c = 0; c < NAMED; c++) *named[c] = series + (size_t)(INPUTS + c) * days;
    M *masks = (M *)(series + (size_t)SERIES * days);
    b.ok = masks;
    b.operating = masks + days;
    b.on = masks + 2 * (size_t)days;
    b.earlier = masks + 3 * (size_t)days;
    b.hours = (VF *)(masks + (size_t)MASKS * days);
    b.chunk = (int64_t *)(b.hours + (size_t)HOURS * days);
    b.local = b.chunk + days;
    for (int64_t first = start; first < stop; first += LANES) {
        int size = stop - first < LANES ? (int)(stop - first) : LANES;
        F(prefetch)(stop, first + LANES, days, row_of, starts, figures, hourly, chunks);
        F(gather)(&b, stop, first, days, row_of, starts, figures, hourly, valid, temperature,
                  temperature_row, chunks);
        F(block_features)(&b, days, weekday, min_kw, out, meters, first, size);
    }
    free(memory);
    return 0;
}

/* The trees' log-odds for rows [start, stop), eight at a time, from x stored feature by
 * feature (rows contiguous, `column_step` apart). Every split of a level is compared for the
 * eight rows at once and each row keeps the one on its path, so no row waits for another's
 * walk; the rows past the last multiple of eight are left to the caller. */
static int64_t F(tree_rows)(int64_t start, int64_t stop, int64_t column_step, const double *x,
                            int64_t trees, int depth, const int64_t *feature,
                            const double *threshold, const double *leaves, double base_score,
                            double learning_rate, double *out) {
    int64_t internal = ((int64_t)1 << depth) - 1, leaf_count = internal + 1;
    int64_t first = start;
    for (; first + LANES <= stop; first += LANES) {
        V total = SPLAT(base_score);
        for (int64_t t = 0; t < trees; t++) {
            const int64_t *split_on = feature + t * internal;
            const double *split_at = threshold + t * internal;
            M node = (M){0}; /* the node on each row's path, counted within its level */
            for (int level = 0; level < depth; level++) {
                int64_t width = (int64_t)1 << level, offset = width - 1;
                M right = (M){0};
                for (int64_t j = 0; j < width; j++) {
                    V value;
                    memcpy(&value, x + split_on[offset + j] * column_step + first, sizeof value);
                    right |= (value > SPLAT(split_at[offset + j])) & (node == j);
                }
                node = 2 * node + (right & 1);
            }
            const double *leaf = leaves + t * leaf_count;
            V reached;
            for (int l = 0; l < LANES; l++) reached[l] = leaf[node[l]];
            total += learning_rate * reached;
        }
        memcpy(out + first, &total, sizeof total);
    }
    return first;
}

#undef F
#undef INLINE
#undef KERNEL
