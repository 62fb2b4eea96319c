/*
 * Stage one of the meter kernel in C: every figure of a meter-day from one read of its
 * readings, a vector of days at a time.
 *
 * The readings arrive as Arrow holds them: one float32 buffer per quarter-hour column (and a
 * null bitmap where the column has nulls). A run of consecutive rows of a column is one
 * vector load; every running figure of those days (count, sum, peak, hour sums,
 * roughness ...) is one vector that stays in a register while the columns go by. GCC's
 * generic vector extensions say this portably. The loop (_stage_one_body.h) is compiled once
 * per vector width: on x86-64 for AVX-512 (sixteen days), AVX2 (eight) and the baseline
 * (four), the widest the processor has chosen at the first call; elsewhere the baseline.
 *
 * The figures and their order are FIGURES and COUNTS in _fused.py; the meaning of each is documented
 * there and in daily.py. Missing readings are NaN; a fault is counted and becomes NaN.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#define FIGURES 9 /* float32 figures of a day */

/* A float32 rounded to bfloat16 (its upper half; to nearest, ties to even). The hourly means
 * are kept this way: 0.2 % at most, below the accuracy class of the meters that measured
 * them, in half the memory. NaN and the infinities stay what they are. */
static inline uint16_t to_bfloat16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if (value != value) return (uint16_t)((bits >> 16) | 0x40); /* stays a quiet NaN */
    return (uint16_t)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}
#define COUNTS 3  /* int16 counts of a day: valid, negative, impossible slots */
#define MAX_SLOTS 96
#define ALIGN 16 /* a thread's first row is a multiple of this (and of every LANES) */
#ifndef PREFETCH_ROWS
#define PREFETCH_ROWS 128 /* read ahead in each column (512 bytes) */
#endif

/* One day read again on its own, in double precision: the path for a day with a register
 * fault (a reading towering over the rest of its own day: blanked, twice at most). `day`
 * holds its readings with the faults already NaN; the counts of those faults come in. */
static void one_day(float *day, int slots, float negative, float absurd, double spike_ratio,
                    double spike_margin, const uint8_t *valley, const uint8_t *daytime,
                    const uint8_t *night, int64_t n, int64_t i, float *out, int16_t *counts,
                    uint16_t *hourly) {
    int per_hour = slots / 24;
    double count = 0.0, total = 0.0;
    for (int j = 0; j < slots; j++) {
        if (day[j] == day[j]) {
            count += 1.0;
            total += day[j];
        }
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        double peak = -INFINITY;
        int at = -1;
        for (int j = 0; j < slots; j++) {
            if (day[j] > peak) {
                peak = day[j];
                at = j;
            }
        }
        if (count <= 4 || !(peak > spike_ratio * (total - peak) / (count - 1) + spike_margin)) break;
        day[at] = NAN;
        count -= 1.0;
        total -= peak;
        absurd += 1.0f;
    }
    float mean = count > 0 ? (float)(total / count) : NAN;
    float high = -INFINITY, square = 0.0f, rough = 0.0f, pairs = 0.0f;
    float hour_sum[24] = {0}, hour_n[24] = {0};
    for (int j = 0; j < slots; j++) {
        float v = day[j];
        if (v == v) {
            float deviation = v - mean;
            high = v > high ? v : high;
            square += deviation * deviation;
            hour_sum[j / per_hour] += v;
            hour_n[j / per_hour] += 1.0f;
        }
        if (j > 0) {
            float change = fabsf(v - day[j - 1]);
            if (change == change) {
                rough += change;
                pairs += 1.0f;
            }
        }
    }
    float floor = INFINITY;
    double v_sum = 0.0, v_sq = 0.0, d_sum = 0.0, n_sum = 0.0;
    int v_n = 0, d_n = 0, n_n = 0;
    for (int h = 0; h < 24; h++) {
        float hour = hour_n[h] > 0 ? hour_sum[h] / hour_n[h] : mean;
        hourly[h * n + i] = to_bfloat16(hour);
        floor = hour < floor ? hour : floor;
        if (valley[h]) {
            v_sum += hour;
            v_sq += (double)hour * hour;
            v_n++;
        }
        if (daytime[h]) {
            d_sum += hour;
            d_n++;
        }
        if (night[h]) {
            n_sum += hour;
            n_n++;
        }
    }
    float c = (float)count;
    double v_mean = v_sum / v_n;
    double spread = sqrt(fmax(v_sq / v_n - v_mean * v_mean, 0.0));
    float figures[FIGURES] = {
        mean, c > 0 ? high : NAN, sqrtf(square / c), pairs > 0 ? rough / pairs : NAN,
        c > 0 ? floor : NAN, (float)v_mean, (float)(d_sum / d_n), (float)(n_sum / n_n),
        v_mean > 0 ? (float)(spread / v_mean) : NAN,
    };
    for (int k = 0; k < FIGURES; k++) out[k * n + i] = figures[k];
    int16_t tallies[COUNTS] = {(int16_t)count, (int16_t)negative, (int16_t)absurd};
    for (int k = 0; k < COUNTS; k++) counts[k * n + i] = tallies[k];
}

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f")
#define LANES 16
#define VF vf16
#define VI vi16
#define VD vd16
#define VU vu16
#define VH vh16
#define KERNEL(name) name##_16
#include "_stage_one_body.h"
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define LANES 8
#define VF vf8
#define VI vi8
#define VD vd8
#define VU vu8
#define VH vh8
#define KERNEL(name) name##_8
#include "_stage_one_body.h"
#pragma GCC pop_options
#endif

#define LANES 4
#define VF vf4
#define VI vi4
#define VD vd4
#define VU vu4
#define VH vh4
#define KERNEL(name) name##_4
#include "_stage_one_body.h"

typedef void (*reduce_fn)(int64_t, int64_t, int64_t, const int64_t *, const int64_t *,
                          const uint8_t *, int, float, float, double, double, const uint8_t *,
                          const uint8_t *, const uint8_t *, float *, int16_t *, uint16_t *);

static reduce_fn chosen = 0;

static reduce_fn widest(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return reduce_rows_16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return reduce_rows_8;
#endif
    return reduce_rows_4;
}

/*
 * Every figure of rows [start, stop) of a batch of n rows.
 *
 * values[j], bitmaps[j]: addresses of column j's float32 values and null bitmap (read only
 * where nullable[j]); valley, daytime, night: 24 flags each. out is (FIGURES, n) float32,
 * counts (COUNTS, n) int16 and hourly (24, n) bfloat16 (see to_bfloat16), all row-major. start must be a
 * multiple of ALIGN.
 * Returns 0, or -1 if the arguments cannot be right (then nothing is written).
 */
int mw_reduce_days(int64_t n, int64_t start, int64_t stop, const int64_t *values,
                   const int64_t *bitmaps, const uint8_t *nullable, int slots,
                   double negative_tolerance, double absurd_kw, double spike_ratio,
                   double spike_margin, const uint8_t *valley, const uint8_t *daytime,
                   const uint8_t *night, float *out, int16_t *counts, uint16_t *hourly) {
    if (slots < 24 || slots > MAX_SLOTS || slots % 24 || start % ALIGN || start < 0 ||
        stop > n || start > stop)
        return -1;
    reduce_fn reduce = chosen ? chosen : (chosen = widest());
    reduce(n, start, stop, values, bitmaps, nullable, slots, (float)-negative_tolerance,
           (float)absurd_kw, spike_ratio, spike_margin, valley, daytime, night, out, counts, hourly);
    return 0;
}

/* How many days the loop takes together (the widest the processor has), or, with `lanes`
 * 4, 8 or 16, take that many from now on if the processor can (for tests and benchmarks).
 * Returns the width in use. */
int mw_lanes(int lanes) {
    reduce_fn widest_fn = widest();
    if (lanes == 4) chosen = reduce_rows_4;
#if defined(__x86_64__)
    if (lanes == 8 && widest_fn != reduce_rows_4) chosen = reduce_rows_8;
    if (lanes == 16 && widest_fn == reduce_rows_16) chosen = reduce_rows_16;
#endif
    if (!chosen) chosen = widest_fn;
#if defined(__x86_64__)
    if (chosen == reduce_rows_16) return 16;
    if (chosen == reduce_rows_8) return 8;
#endif
    return 4;
}

/* The width in use (see mw_lanes): stage two takes the same instruction set. */
int mw_chosen_lanes(void) { return mw_lanes(0); }
