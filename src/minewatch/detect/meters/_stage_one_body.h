/*
 * The vector loop of stage one, included by _stage_one.c once per vector width: the includer
 * defines LANES (days taken together), the type names VF, VI, VD, VU, VH and KERNEL(name), which
 * gives this width's functions their own names, and compiles it for the matching target;
 * the parameters are undefined again at the end, ready for the next width.
 */

typedef float VF __attribute__((vector_size(LANES * 4)));
typedef int32_t VI __attribute__((vector_size(LANES * 4)));
typedef uint32_t VU __attribute__((vector_size(LANES * 4)));
typedef uint16_t VH __attribute__((vector_size(LANES * 2)));
typedef double VD __attribute__((vector_size(LANES * 8)));

__attribute__((always_inline)) static inline VF KERNEL(pick)(VI mask, VF yes, VF no) {
    return (VF)(((VI)yes & mask) | ((VI)no & ~mask));
}

__attribute__((always_inline)) static inline VF KERNEL(splat)(float value) {
    VF out;
    for (int k = 0; k < LANES; k++) out[k] = value;
    return out;
}

__attribute__((always_inline)) static inline VD KERNEL(widen)(VF value) {
    return __builtin_convertvector(value, VD);
}

/* The first `size` lanes of `value` to `target` (in one store when they all fit). */
__attribute__((always_inline)) static inline void KERNEL(store)(float *target, VF value, int size) {
    if (size == LANES) {
        memcpy(target, &value, sizeof value);
    } else {
        for (int k = 0; k < size; k++) target[k] = value[k];
    }
}

/* The first `size` lanes of `value` to `target` as bfloat16 (see to_bfloat16). */
__attribute__((always_inline)) static inline void KERNEL(store_bfloat16)(uint16_t *target, VF value,
                                                                          int size) {
    VU bits = (VU)value;
    VU rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
    VU quiet = (bits >> 16) | 0x40;
    VI nan = value != value;
    VH half = __builtin_convertvector(((VU)nan & quiet) | (~(VU)nan & rounded), VH);
    if (size == LANES) {
        memcpy(target, &half, sizeof half);
    } else {
        for (int k = 0; k < size; k++) target[k] = half[k];
    }
}

/* Rows [start, stop) of the batch; `start` is a multiple of LANES. See mw_reduce_days. */
static void KERNEL(reduce_rows)(int64_t n, int64_t start, int64_t stop, const int64_t *values,
                        const int64_t *bitmaps, const uint8_t *nullable, int slots,
                        float low_ok, float high_ok, double spike_ratio, double spike_margin,
                        const uint8_t *valley, const uint8_t *daytime, const uint8_t *night,
                        float *out, int16_t *counts, uint16_t *hourly) {
    const int per_hour = slots / 24;
    const VF zero = KERNEL(splat)(0.0f), one = KERNEL(splat)(1.0f), blank = KERNEL(splat)(NAN);
    const VF low_v = KERNEL(splat)(low_ok), high_v = KERNEL(splat)(high_ok);
    VF day[MAX_SLOTS]; /* the block's cleaned readings, column by column */
    for (int64_t first = start; first < stop; first += LANES) {
        int size = stop - first < LANES ? (int)(stop - first) : LANES;
        VF count = zero, negative = zero, absurd = zero, peak = KERNEL(splat)(-INFINITY);
        VF rough = zero, pairs = zero, previous = blank;
        VD total = KERNEL(widen)(zero);
        VF hour_sum[24], hour_n[24];
        for (int j = 0; j < slots; j++) {
            const float *column = (const float *)(intptr_t)values[j];
            /* 96 columns are 96 streams, more than the processor follows on its own. */
            if (first + PREFETCH_ROWS < stop) __builtin_prefetch(column + first + PREFETCH_ROWS);
            VF v;
            if (size == LANES) {
                memcpy(&v, column + first, sizeof v);
            } else {
                v = blank;
                for (int k = 0; k < size; k++) v[k] = column[first + k];
            }
            if (nullable[j]) {
                const uint8_t *bits = (const uint8_t *)(intptr_t)bitmaps[j];
                uint32_t mask = 0;
                int64_t last = first + size - 1;
                for (int64_t byte = last >> 3; byte >= first >> 3; byte--)
                    mask = (mask << 8) | bits[byte];
                mask >>= first & 7;
                uint32_t all = size == 32 ? 0xFFFFFFFFu : ((1u << size) - 1);
                if ((mask & all) != all)
                    for (int k = 0; k < size; k++)
                        if (!((mask >> k) & 1)) v[k] = NAN;
            }
            negative += KERNEL(pick)(v < low_v, one, zero);
            absurd += KERNEL(pick)(v > high_v, one, zero);
            v = KERNEL(pick)((v >= low_v) & (v <= high_v), v, blank);
            day[j] = v;
            VI kept = v == v;
            count += KERNEL(pick)(kept, one, zero);
            total += KERNEL(widen)(KERNEL(pick)(kept, v, zero));
            if (j % per_hour == 0) {
                hour_sum[j / per_hour] = zero;
                hour_n[j / per_hour] = zero;
            }
            hour_sum[j / per_hour] += KERNEL(pick)(kept, v, zero);
            hour_n[j / per_hour] += KERNEL(pick)(kept, one, zero);
            peak = KERNEL(pick)(v > peak, v, peak);
            VF change = v - previous;
            change = KERNEL(pick)(change < zero, -change, change);
            VI both = change == change;
            rough += KERNEL(pick)(both, change, zero);
            pairs += KERNEL(pick)(both, one, zero);
            previous = v;
        }
        VD count_d = KERNEL(widen)(count);
        VF mean = __builtin_convertvector(total / count_d, VF);
        mean = KERNEL(pick)(count > zero, mean, blank);
        VF square = zero;
        for (int j = 0; j < slots; j++) {
            VF deviation = day[j] - mean;
            square += KERNEL(pick)(deviation == deviation, deviation * deviation, zero);
        }
        VF floor = KERNEL(splat)(INFINITY);
        VD v_sum = KERNEL(widen)(zero), v_sq = KERNEL(widen)(zero), d_sum = KERNEL(widen)(zero), n_sum = KERNEL(widen)(zero);
        int v_n = 0, d_n = 0, n_n = 0;
        for (int h = 0; h < 24; h++) {
            VF hour = KERNEL(pick)(hour_n[h] > zero, hour_sum[h] / hour_n[h], mean);
            floor = KERNEL(pick)(hour < floor, hour, floor);
            VD wide = KERNEL(widen)(hour);
            if (valley[h]) {
                v_sum += wide;
                v_sq += wide * wide;
                v_n++;
            }
            if (daytime[h]) {
                d_sum += wide;
                d_n++;
            }
            if (night[h]) {
                n_sum += wide;
                n_n++;
            }
            KERNEL(store_bfloat16)(hourly + h * n + first, hour, size);
        }
        VI some = count > zero;
        VD v_mean = v_sum / (double)v_n;
        VD v_var = v_sq / (double)v_n - v_mean * v_mean;
        VF figures[FIGURES];
        figures[0] = mean;
        figures[1] = KERNEL(pick)(some, peak, blank);
        figures[2] = square / count; /* the square root is taken below */
        figures[3] = KERNEL(pick)(pairs > zero, rough / pairs, blank);
        figures[4] = KERNEL(pick)(some, floor, blank);
        figures[5] = __builtin_convertvector(v_mean, VF);
        figures[6] = __builtin_convertvector(d_sum / (double)d_n, VF);
        figures[7] = __builtin_convertvector(n_sum / (double)n_n, VF);
        double spread[LANES], centre[LANES];
        memcpy(spread, &v_var, sizeof spread);
        memcpy(centre, &v_mean, sizeof centre);
        for (int k = 0; k < LANES; k++) {
            double cv = sqrt(spread[k] > 0 ? spread[k] : 0.0) / centre[k];
            figures[8][k] = centre[k] > 0 ? (float)cv : NAN;
        }
        for (int f = 0; f < FIGURES; f++) KERNEL(store)(out + f * n + first, figures[f], size);
        float *std = out + 2 * n + first;
        for (int k = 0; k < size; k++) std[k] = sqrtf(std[k]);
        VF tallies[COUNTS] = {count, negative, absurd};
        for (int c = 0; c < COUNTS; c++)
            for (int k = 0; k < size; k++) counts[c * n + first + k] = (int16_t)tallies[c][k];
        /* Days whose peak towers over the rest of them are read again on their own. */
        VD count_w = KERNEL(widen)(count), peak_w = KERNEL(widen)(peak);
        VD bar = spike_ratio * (total - peak_w) / (count_w - 1.0) + spike_margin;
        int64_t spiked[LANES];
        VD four = KERNEL(widen)(KERNEL(splat)(4.0f));
        __typeof__(count_w > four) towers = (count_w > four) & (peak_w > bar);
        memcpy(spiked, &towers, sizeof spiked);
        for (int k = 0; k < size; k++) {
            if (spiked[k]) {
                float readings[MAX_SLOTS];
                for (int j = 0; j < slots; j++) readings[j] = day[j][k];
                one_day(readings, slots, negative[k], absurd[k], spike_ratio, spike_margin,
                        valley, daytime, night, n, first + k, out, counts, hourly);
            }
        }
    }
}

#undef LANES
#undef VF
#undef VI
#undef VD
#undef VU
#undef VH
#undef KERNEL
