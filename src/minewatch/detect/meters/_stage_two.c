/*
 * Stage two of the meter kernel in C: the calendar of each meter, every figure of a meter
 * from its days, and the boosted trees' scores.
 *
 * Stage two works on short series: one value per day, a few weeks. One meter at a time is
 * too little work to fill a vector, so eight meters go together, one per lane: every day of
 * a series is one vector of eight doubles, every step of the physics (the change-point scan,
 * each median, each correlation) runs on all eight at once, and a decision that differs
 * between meters is a mask, not a branch. The loop (_stage_two_body.h) is compiled for
 * AVX-512, AVX2 and the baseline, and the width chosen for stage one (mw_lanes) chooses the
 * same instruction set here. Every variant does the same arithmetic in the same order
 * (-ffp-contract=off), so the figures are identical, and identical to the numpy definitions
 * they follow (see _per_meter.py and features.py for what each one means).
 *
 * Missing values are NaN; medians and means skip them, as numpy's nan* functions do.
 */
#include <float.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LANES 8   /* meters taken together */
#define INPUTS 9  /* stage-one figures read: INPUTS in _per_meter.py */
#define OUTPUTS 31 /* figures written: OUTPUTS in _per_meter.py */
#define HOURS 24
#define STAT_BAR 8.0

typedef double V __attribute__((vector_size(LANES * 8)));
typedef int64_t M __attribute__((vector_size(LANES * 8)));
typedef float VF __attribute__((vector_size(LANES * 4)));

#define SPLAT(x) ((V){(x), (x), (x), (x), (x), (x), (x), (x)})

enum { MEAN, MAX, FLOOR, VALLEY, DAYTIME, NIGHT, VALLEY_CV, STD, ROUGH };

/* Which choice of the stage-one width picked (see mw_lanes in _stage_one.c). */
int mw_chosen_lanes(void);

/* A bfloat16 (stage one's hourly means) as the float32 it stands for. */
static inline float from_bfloat16(uint16_t half) {
    uint32_t bits = (uint32_t)half << 16;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* The chunk holding `row`, searching on from `chunk` (rows come in ascending order). */
static inline int64_t chunk_from(const int64_t *starts, int64_t chunk, int64_t row) {
    while (starts[chunk + 1] <= row) chunk++;
    return chunk;
}

/* The chunk holding `row` (binary search over the chunks' first rows). */
static inline int64_t chunk_of(const int64_t *starts, int64_t chunks, int64_t row) {
    int64_t lo = 0, hi = chunks - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi + 1) / 2;
        if (starts[mid] <= row)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq")
#define KERNEL(name) name##_avx512
#include "_stage_two_body.h"
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2")
#define KERNEL(name) name##_avx2
#include "_stage_two_body.h"
#pragma GCC pop_options
#endif

#define KERNEL(name) name##_base
#include "_stage_two_body.h"

typedef int (*features_fn)(int64_t, int64_t, int32_t, int64_t, const int32_t *,
                           const int64_t *, const int64_t *, const int64_t *, const uint8_t *,
                           const double *, const int32_t *, const int64_t *, double, int64_t,
                           double *);

/*
 * Every figure of meters [start, stop) of `meters` (see meter_features in _per_meter.py).
 *
 * row_of (meters, days): the stage-one row of each meter-day, -1 where absent. The
 * stage-one table is read in place: starts are its chunks' first rows (and the total),
 * figures (INPUTS, chunks) the addresses of its float32 columns, hourly (24, chunks) those
 * of the hourly means (bfloat16). valid (meters, days) flags days with enough readings; meter i's
 * temperatures are row temperature_row[i] of temperature (series, days), NaN where
 * unknown; weekday is each day's (Monday 0). out is (OUTPUTS, meters), figure by figure.
 * start must be a multiple of LANES. Returns 0, or -1 when memory runs out or the
 * arguments cannot be right (then nothing is written).
 */
int mw_meter_features(int64_t meters, int64_t start, int64_t stop, int32_t days,
                      int64_t chunks, const int32_t *row_of, const int64_t *starts, const int64_t *figures,
                      const int64_t *hourly, const uint8_t *valid, const double *temperature,
                      const int32_t *temperature_row, const int64_t *weekday,
                      double min_mining_kw, double *out) {
    if (days < 1 || chunks < 1 || start < 0 || start % LANES || stop > meters || start > stop) return -1;
    features_fn run = meter_features_base;
#if defined(__x86_64__)
    int lanes = mw_chosen_lanes();
    if (lanes == 16) run = meter_features_avx512;
    if (lanes == 8) run = meter_features_avx2;
#endif
    return run(start, stop, days, chunks, row_of, starts, figures, hourly, valid, temperature,
               temperature_row, weekday, min_mining_kw, meters, out);
}

/*
 * Place `rows` stage-one rows on a (meters, days) calendar in one pass (see place_days in
 * _per_meter.py). meter and day are each row's meter code and day number; counts (3, chunks)
 * are the addresses of the int16 columns valid, negative and absurd slots, means (chunks)
 * those of the float32 daily mean. Of two rows for one meter-day the one with more valid
 * slots stays, then the higher mean (missing counts as -1), then the later. Writes row_of
 * (-1 where none), valid, and totals (5, meters): present days, duplicates dropped, negative,
 * impossible and missing slots. kept is scratch of meters × days int16. Returns 0, or -1
 * when a row's meter or day falls outside the calendar.
 */
int mw_place_days(int64_t rows, const int32_t *meter, const int32_t *day, int32_t first_day,
                  int64_t chunks, const int64_t *starts, const int64_t *counts,
                  const int64_t *means, int64_t meters, int32_t days, int min_valid_slots,
                  int slots_per_day, int32_t *row_of, uint8_t *valid, int64_t *totals,
                  int16_t *kept) {
    for (int64_t r = 0; r < rows; r++) {
        if (meter[r] < 0 || meter[r] >= meters || day[r] - first_day < 0 ||
            day[r] - first_day >= days)
            return -1;
    }
    for (int64_t k = 0; k < meters * days; k++) row_of[k] = -1;
    memset(totals, 0, sizeof(int64_t) * 5 * meters);
    int64_t chunk = 0;
    for (int64_t r = 0; r < rows; r++) {
        chunk = chunk_from(starts, chunk, r);
        int64_t local = r - starts[chunk];
        int64_t cell = (int64_t)meter[r] * days + (day[r] - first_day);
        int64_t i = meter[r];
        int16_t slots = ((const int16_t *)(intptr_t)counts[chunk])[local];
        totals[2 * meters + i] += ((const int16_t *)(intptr_t)counts[chunks + chunk])[local];
        totals[3 * meters + i] += ((const int16_t *)(intptr_t)counts[2 * chunks + chunk])[local];
        int32_t held = row_of[cell];
        if (held >= 0) {
            totals[meters + i] += 1;
            if (slots < kept[cell]) continue;
            if (slots == kept[cell]) {
                float mine = ((const float *)(intptr_t)means[chunk])[local];
                int64_t other = chunk_of(starts, chunks, held);
                float theirs = ((const float *)(intptr_t)means[other])[held - starts[other]];
                double a = mine != mine ? -1.0 : mine, b = theirs != theirs ? -1.0 : theirs;
                if (a < b) continue;
            }
        }
        row_of[cell] = (int32_t)r;
        kept[cell] = slots;
    }
    for (int64_t i = 0; i < meters; i++) {
        for (int32_t k = 0; k < days; k++) {
            int64_t cell = i * days + k;
            valid[cell] = 0;
            if (row_of[cell] >= 0) {
                totals[i] += 1;
                totals[4 * meters + i] += slots_per_day - kept[cell];
                valid[cell] = kept[cell] >= min_valid_slots;
            }
        }
    }
    return 0;
}

/*
 * The boosted trees' log-odds for rows [start, stop) of x (value (r, c) at
 * x[r * row_step + c * column_step], so either layout is read in place; stored feature by
 * feature, eight rows go together, see tree_rows in _stage_two_body.h): each
 * row walks every tree of fixed `depth` (feature[t, node], threshold[t, node], leaves[t, leaf])
 * and adds learning_rate × its leaf to base_score, tree by tree. A block of rows goes down a
 * tree together: their walks do not depend on one another, so the processor overlaps them.
 */
void mw_tree_margin(int64_t start, int64_t stop, int64_t row_step, int64_t column_step,
                    const double *x, int64_t trees,
                    int depth, const int64_t *feature, const double *threshold,
                    const double *leaves, double base_score, double learning_rate, double *out) {
    enum { BLOCK = 64 };
    int64_t internal = ((int64_t)1 << depth) - 1, leaf_count = internal + 1;
    if (row_step == 1) {
        typedef int64_t (*rows_fn)(int64_t, int64_t, int64_t, const double *, int64_t, int,
                                   const int64_t *, const double *, const double *, double,
                                   double, double *);
        rows_fn rows = tree_rows_base;
#if defined(__x86_64__)
        int lanes = mw_chosen_lanes();
        if (lanes == 16) rows = tree_rows_avx512;
        if (lanes == 8) rows = tree_rows_avx2;
#endif
        start = rows(start, stop, column_step, x, trees, depth, feature, threshold, leaves,
                     base_score, learning_rate, out);
    }
    for (int64_t first = start; first < stop; first += BLOCK) {
        int size = stop - first < BLOCK ? (int)(stop - first) : BLOCK;
        double total[BLOCK];
        int64_t node[BLOCK];
        for (int r = 0; r < size; r++) total[r] = base_score;
        for (int64_t t = 0; t < trees; t++) {
            const int64_t *split_on = feature + t * internal;
            const double *split_at = threshold + t * internal;
            for (int r = 0; r < size; r++) node[r] = 0;
            for (int level = 0; level < depth; level++) {
                for (int r = 0; r < size; r++) {
                    int64_t k = node[r];
                    int right = x[(first + r) * row_step + split_on[k] * column_step] > split_at[k];
                    node[r] = 2 * k + 1 + right;
                }
            }
            for (int r = 0; r < size; r++)
                total[r] += learning_rate * leaves[t * leaf_count + node[r] - internal];
        }
        for (int r = 0; r < size; r++) out[first + r] = total[r];
    }
}
