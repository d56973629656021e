/* Per-age loop of one block of the age-major signature kernel (float32).

   latentlab.signatures._native compiles this file on first use and calls
   block_ages through ctypes (which releases the GIL); _ages.block_terms
   documents the layouts and runs the same steps with torch operations where
   no C compiler or no BLAS sgemm is found. Compiled without fast-math and
   without contraction to FMA, so each step rounds as the torch steps do.

   For ages t in [t0, t1) of one block of n people:
     w = aug[t] theta[:, t, :]             (D x n; aug holds -kappa sigma and 1)
     clamp w to [lo, hi] where flags[t] (eps and 1 - eps as float32); w = 1
     for the pairs after E (exit_age < t, exit_age the (D x n) E of the
     block); count w <= lo (clamped ages, count_high);
     product = w (t0) or product * w
   and, for the events of these ages (computed first),
     pi = sum_k theta kappa sigma, clamped where clamp;
     ev_total += -(log pi - log1p(-pi)); ev_p = -1/pi
   and, where want:
     g = 1 / w; 0 after E; -1/pi at the events
     grad_theta[:, t, :] = theta (S g - sum_k theta (S g))   (softmax backward)
     grad_s[t] += theta[:K1, t, :] g^T
   The caller takes the log of product after the call (once per group of ages).

   The pass over the cells of an age uses AVX2 where the compiler targets it
   (LATENTLAB_PORTABLE forces the plain loop, for tests); both round alike.
   BLAS: gemm is a Fortran sgemm_; its integer arguments point to int64
   values, so an LP64 and an ILP64 sgemm_ read the same numbers (little-endian).
*/
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX2__) && !defined(LATENTLAB_PORTABLE)
#include <immintrin.h>
#define CELLS_AVX2 1
#endif

typedef void (*gemm_fn)(const char *, const char *, const void *, const void *,
                        const void *, const float *, const float *, const void *,
                        const float *, const void *, const float *, float *,
                        const void *);

/* Row-major C (m x n, ldc) = op(A) op(B) + beta C through column-major sgemm. */
static void mm(gemm_fn gemm, int ta, int tb, int64_t m, int64_t n, int64_t k,
               const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
               float *C, int64_t ldc) {
    const float one = 1.0f;
    const char a = ta ? 'T' : 'N', b = tb ? 'T' : 'N';
    gemm(&b, &a, &n, &m, &k, &one, B, &ldb, A, &lda, &beta, C, &ldc);
}

int latentlab_native_version(void) { return 2; }

/* Row-major C = A B for a load-time check of the BLAS found. */
void latentlab_mm(void *gemm, int64_t m, int64_t n, int64_t k, const float *A,
                  const float *B, float *C) {
    mm((gemm_fn)gemm, 0, 0, m, n, k, A, k, B, n, 0.0f, C, n);
}

/* The cells of age t, in one pass: v = w, clamped to [lo, hi] where clamped,
   1 after E (exit_age < t); product = v (first) or product * v; where want,
   w becomes g = 1 / v, 0 after E. Returns the number of v <= lo (where clamped
   and count). */
static int64_t age_cells(float *restrict w, float *restrict product,
                         const int16_t *restrict exit_age, int64_t cells, int64_t t,
                         int first, int want, int clamped, int count, float lo,
                         float hi) {
    int64_t high = 0, c = 0;
#ifdef CELLS_AVX2
    const __m256 one = _mm256_set1_ps(1.0f), lo8 = _mm256_set1_ps(lo),
                 hi8 = _mm256_set1_ps(hi);
    const __m256i age = _mm256_set1_epi32((int32_t)t);
    for (; c + 8 <= cells; c += 8) {
        __m256 v = _mm256_loadu_ps(w + c);
        if (clamped) {
            v = _mm256_blendv_ps(v, lo8, _mm256_cmp_ps(v, lo8, _CMP_LT_OQ));
            v = _mm256_blendv_ps(v, hi8, _mm256_cmp_ps(v, hi8, _CMP_GT_OQ));
        }
        const __m128i exit8 = _mm_loadu_si128((const __m128i *)(exit_age + c));
        const __m256 after = _mm256_castsi256_ps(
            _mm256_cmpgt_epi32(age, _mm256_cvtepi16_epi32(exit8)));
        v = _mm256_blendv_ps(v, one, after);
        if (clamped && count)
            high += __builtin_popcount(
                _mm256_movemask_ps(_mm256_cmp_ps(v, lo8, _CMP_LE_OQ)));
        const __m256 p = first ? v : _mm256_mul_ps(_mm256_loadu_ps(product + c), v);
        _mm256_storeu_ps(product + c, p);
        if (want)
            _mm256_storeu_ps(w + c, _mm256_andnot_ps(after, _mm256_div_ps(one, v)));
    }
#endif
    for (; c < cells; c++) {
        float v = w[c];
        if (clamped)
            v = v < lo ? lo : (v > hi ? hi : v);
        const int after = exit_age[c] < t;
        if (after)
            v = 1.0f;
        if (clamped && count)
            high += v <= lo;
        product[c] = first ? v : product[c] * v;
        if (want)
            w[c] = after ? 0.0f : 1.0f / v;
    }
    return high;
}

/* out[i] = sum over k < K1 of a[k step + i] b[k step + i], i < m, k in order. */
static void weighted_rows(const float *restrict a, const float *restrict b, int64_t K1,
                          int64_t step, int64_t m, float *restrict out) {
    for (int64_t i = 0; i < m; i++)
        out[i] = a[i] * b[i];
    for (int64_t k = 1; k < K1; k++)
        for (int64_t i = 0; i < m; i++)
            out[i] += a[k * step + i] * b[k * step + i];
}

void block_ages(void *gemm_ptr, int64_t t0, int64_t t1, int64_t T, int64_t D,
                int64_t n, int64_t K1, const float *restrict aug,
                const float *restrict theta, float *restrict w,
                float *restrict product, const int16_t *restrict exit_age,
                const int64_t *ev_cell,
                const int64_t *ev_bounds, const int64_t *ev_theta,
                const int64_t *ev_s, const float *restrict s_flat,
                float *restrict ev_p, const uint8_t *flags, int clamp, float lo,
                float hi, int count_high, int64_t *n_high, double *ev_total, int want,
                const float *restrict s_by_age, float *restrict grad_theta,
                float *restrict grad_s, float *restrict scratch) {
    gemm_fn gemm = (gemm_fn)gemm_ptr;
    const int64_t K2 = K1 + 1, cells = D * n, ld = T * n;
    int64_t high = 0;
    double events = 0.0;
    /* pi at the events of these ages, one signature row of theta and of kappa sigma
       at a time (each row stays in cache while the events gather from it); then
       the log terms, and -1/pi kept in ev_p for the gradient */
    const int64_t e0 = ev_bounds[t0], e1 = ev_bounds[t1];
    for (int64_t k = 0; k < K1; k++) {
        const float *theta_k = theta + k * T * n, *s_k = s_flat + k * D * T;
        for (int64_t e = e0; e < e1; e++) {
            const float term = theta_k[ev_theta[e]] * s_k[ev_s[e]];
            ev_p[e] = k ? ev_p[e] + term : term;
        }
    }
    for (int64_t e = e0; e < e1; e++) {
        float p = ev_p[e];
        if (clamp)
            p = p < lo ? lo : (p > hi ? hi : p);
        events -= (double)(logf(p) - log1pf(-p));
        ev_p[e] = -(1.0f / p);
    }
    for (int64_t t = t0; t < t1; t++) {
        const float *aug_t = aug + t * D * K2, *theta_t = theta + t * n;
        mm(gemm, 0, 0, D, n, K2, aug_t, K2, theta_t, ld, 0.0f, w, n);
        const int clamped = flags != NULL && flags[t];
        high += age_cells(w, product, exit_age, cells, t, t == t0, want, clamped,
                          count_high, lo, hi);
        if (!want)
            continue;
        for (int64_t e = ev_bounds[t]; e < ev_bounds[t + 1]; e++)
            w[ev_cell[e]] = ev_p[e];
        float *grad_t = grad_theta + t * n;
        mm(gemm, 0, 0, K1, n, D, s_by_age + t * K1 * D, D, w, n, 0.0f, grad_t, ld);
        mm(gemm, 0, 1, K1, D, n, theta_t, ld, w, n, 1.0f, grad_s + t * K1 * D, D);
        /* softmax backward in place: theta (g - sum_k theta g) */
        weighted_rows(theta_t, grad_t, K1, ld, n, scratch);
        for (int64_t k = 0; k < K1; k++) {
            float *g = grad_t + k * ld;
            const float *th = theta_t + k * ld;
            for (int64_t i = 0; i < n; i++)
                g[i] = (g[i] - scratch[i]) * th[i];
        }
    }
    if (n_high)
        *n_high += high;
    *ev_total += events;
}

/* Sums in float64 over 8 interleaved partial sums (c mod 8, the tail in the
   first), added pairwise at the end: the same order on every machine, and
   additions that do not wait on each other (a single running sum would). */
static double dot(const double *restrict x, const double *restrict y, int64_t m) {
    double acc[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    int64_t c = 0;
    for (; c + 8 <= m; c += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += x[c + j] * y[c + j];
    for (; c < m; c++)
        acc[0] += x[c] * y[c];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
           ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static double sum(const double *restrict x, int64_t m) {
    double acc[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    int64_t c = 0;
    for (; c + 8 <= m; c += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += x[c + j];
    for (; c < m; c++)
        acc[0] += x[c];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
           ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

typedef void (*dgemm_fn)(const char *, const char *, const void *, const void *,
                         const void *, const double *, const double *, const void *,
                         const double *, const void *, const double *, double *,
                         const void *);

/* The centered lambda prior over m people of lam (N x K1 x T, float32): people
   people[0 .. m) where given, else 0 .. m - 1 (rows of lam, offsets, row_sums and
   grad alike):
   delta = (lam - r_k) - offset_ik for k < K, lam - healthy for k >= K (float64),
   solved = P delta, value += delta . solved, row_sums[i, k] = sum_t solved
   (k < K, where row_sums is given), and, where grad is given,
   grad = alpha solved (use_beta 0) or beta grad + alpha float32(solved).

   P (the GP precision, symmetric and persymmetric: P = J P J with J the
   reversal of the ages) maps trajectories symmetric under reversal to
   symmetric ones and antisymmetric to antisymmetric, so P delta comes from
   two products of half the size: Ps (hs x hs, hs = T - T/2) on the first
   half of the symmetric part (and its middle age where T is odd) and Pa
   (h x h, h = T/2) on the first half of the antisymmetric part; half the
   multiply-adds of delta P. People go in groups of `group` so that the work
   arrays stay in cache; work holds four arrays of group K1 T doubles. */
double prior_rows(void *dgemm_ptr, int64_t m, const int64_t *people, int64_t K,
                  int64_t K1, int64_t T, const float *restrict lam,
                  const double *restrict reference,
                  const double *restrict offsets, double healthy,
                  const double *restrict Ps, const double *restrict Pa,
                  double *restrict work, double *restrict row_sums,
                  float *restrict grad, double alpha, double beta, int use_beta,
                  int64_t group) {
    dgemm_fn dgemm = (dgemm_fn)dgemm_ptr;
    const int64_t per = K1 * T, h = T / 2, hs = T - h, size_max = group * per;
    double *restrict delta = work, *restrict solved = work + size_max;
    double *restrict S = work + 2 * size_max, *restrict U = work + 3 * size_max;
    const double one = 1.0, zero = 0.0;
    const float a32 = (float)alpha, b32 = (float)beta;
    double value = 0.0;
    for (int64_t start = 0; start < m; start += group) {
        const int64_t size = start + group < m ? group : m - start;
        const int64_t rows = size * K1, cells = rows * T;
        double *restrict A = S + rows * hs, *restrict V = U + rows * hs;
        for (int64_t i = 0; i < size; i++)
            for (int64_t k = 0; k < K1; k++) {
                const int64_t p = people ? people[start + i] : start + i;
                const float *x = lam + p * per + k * T;
                double *d = delta + i * per + k * T;
                if (k < K) {
                    const double *r = reference + k * T, o = offsets[p * K + k];
                    for (int64_t t = 0; t < T; t++)
                        d[t] = ((double)x[t] - r[t]) - o;
                } else {
                    for (int64_t t = 0; t < T; t++)
                        d[t] = (double)x[t] - healthy;
                }
            }
        for (int64_t q = 0; q < rows; q++) {
            const double *d = delta + q * T;
            for (int64_t t = 0; t < h; t++) {
                S[q * hs + t] = 0.5 * (d[t] + d[T - 1 - t]);
                A[q * h + t] = 0.5 * (d[t] - d[T - 1 - t]);
            }
            if (hs > h)
                S[q * hs + h] = d[h];
        }
        /* row-major U = S Ps^T and V = A Pa^T (column-major: Ps S^T, Pa A^T) */
        dgemm("T", "N", &hs, &rows, &hs, &one, Ps, &hs, S, &hs, &zero, U, &hs);
        if (h > 0)
            dgemm("T", "N", &h, &rows, &h, &one, Pa, &h, A, &h, &zero, V, &h);
        for (int64_t q = 0; q < rows; q++) {
            double *out = solved + q * T;
            for (int64_t t = 0; t < h; t++) {
                out[t] = U[q * hs + t] + V[q * h + t];
                out[T - 1 - t] = U[q * hs + t] - V[q * h + t];
            }
            if (hs > h)
                out[h] = U[q * hs + h];
        }
        value += dot(delta, solved, cells);
        for (int64_t i = 0; i < size; i++) {
            const int64_t p = people ? people[start + i] : start + i;
            const double *s = solved + i * per;
            if (row_sums)
                for (int64_t k = 0; k < K; k++)
                    row_sums[p * K + k] = sum(s + k * T, T);
            if (!grad)
                continue;
            float *g = grad + p * per;
            if (!use_beta)
                for (int64_t c = 0; c < per; c++)
                    g[c] = (float)(alpha * s[c]);
            else
                for (int64_t c = 0; c < per; c++)
                    g[c] = g[c] * b32 + a32 * (float)s[c];
        }
    }
    return value;
}

/* exp(v) for v <= 0 in float32 (Cephes' expf polynomial; 1.4 ulp at most from
   the exact value on 10^7 random points of [-100, 0]), without branches so that
   loops calling it vectorize; 0 below -87.34 (where expf is subnormal) and NaN
   for NaN. */
static inline float exp_nonpositive(float v) {
    const int32_t k = (int32_t)(v * 1.44269504088896341f - 0.5f); /* round(v log2 e) */
    const float n = (float)k;
    const float r = (v - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float e = p * r * r + r + 1.0f;
    const int32_t keep = -(int32_t)!(v < -87.33654f); /* all bits, or none */
    const int32_t scale_bits = ((k + 127) << 23) & keep; /* 2^k, or 0 */
    int32_t e_bits;
    memcpy(&e_bits, &e, 4);
    e_bits &= keep;
    float scale, kept;
    memcpy(&scale, &scale_bits, 4);
    memcpy(&kept, &e_bits, 4);
    return kept * scale;
}

#define PEOPLE 16 /* people per group: one cache line of the (K1, T, n) arrays */

/* bound[t] = min (or max, where upper) of bound[t] and sum_k theta[k, t] s[k, t]
   (work: T floats). */
static void bound_ages(const float *restrict theta, const float *restrict s,
                       int64_t K1, int64_t T, float *restrict work,
                       float *restrict bound, int upper) {
    weighted_rows(theta, s, K1, T, T, work);
    for (int64_t t = 0; t < T; t++) {
        const float b = work[t];
        if (upper ? b > bound[t] : b < bound[t])
            bound[t] = b;
    }
}

/* theta = softmax over signatures of lam's rows (rows[i], or start + i where rows
   is NULL; each K1 x T), written as (K1 + 1, T, n) with a last row of 1;
   PEOPLE people at a time through local (PEOPLE, K1 T), so that each cache
   line of theta is written once, whole. Where low (K1 x T) is given,
   low_min[t] = min over the people of sum_k theta_k low_k at age t; where high
   is given, high_max[t] the max of sum_k theta_k high_k (bounds on pi). */
void block_theta(const float *restrict lam, const int64_t *rows, int64_t start,
                 int64_t n, int64_t K1, int64_t T, float *restrict theta,
                 float *restrict local, const float *restrict low,
                 const float *restrict high, float *restrict low_min,
                 float *restrict high_max) {
    float top[T], total[T];
    for (int64_t t = 0; t < T; t++) {
        if (low)
            low_min[t] = INFINITY;
        if (high)
            high_max[t] = -INFINITY;
    }
    for (int64_t i0 = 0; i0 < n; i0 += PEOPLE) {
        const int64_t size = i0 + PEOPLE < n ? PEOPLE : n - i0;
        for (int64_t j = 0; j < size; j++) {
            const float *x = lam + (rows ? rows[i0 + j] : start + i0 + j) * K1 * T;
            float *e = local + j * K1 * T;
            for (int64_t t = 0; t < T; t++)
                top[t] = x[t];
            for (int64_t k = 1; k < K1; k++)
                for (int64_t t = 0; t < T; t++)
                    top[t] = x[k * T + t] > top[t] ? x[k * T + t] : top[t];
            for (int64_t k = 0; k < K1; k++)
                for (int64_t t = 0; t < T; t++)
                    e[k * T + t] = exp_nonpositive(x[k * T + t] - top[t]);
            for (int64_t t = 0; t < T; t++)
                total[t] = e[t];
            for (int64_t k = 1; k < K1; k++)
                for (int64_t t = 0; t < T; t++)
                    total[t] += e[k * T + t];
            for (int64_t k = 0; k < K1; k++)
                for (int64_t t = 0; t < T; t++)
                    e[k * T + t] /= total[t];
            if (low)
                bound_ages(e, low, K1, T, total, low_min, 0);
            if (high)
                bound_ages(e, high, K1, T, total, high_max, 1);
        }
        for (int64_t c = 0; c < K1 * T; c++) {
            float *out = theta + c * n + i0;
            for (int64_t j = 0; j < size; j++)
                out[j] = local[j * K1 * T + c];
        }
    }
    for (int64_t c = 0; c < T * n; c++)
        theta[K1 * T * n + c] = 1.0f;
}

/* grad_theta (K1, T, n) back to lam's layout: out[rows[i] or start + i] (K1 x T)
   takes grad_theta[:, t, i] at ages t < T_c and 0 after; PEOPLE people at a
   time through the local array. */
void block_grad_lam(const float *restrict grad_theta, const int64_t *rows,
                    int64_t start, int64_t n, int64_t K1, int64_t T, int64_t T_c,
                    float *restrict out, float *restrict local) {
    for (int64_t i0 = 0; i0 < n; i0 += PEOPLE) {
        const int64_t size = i0 + PEOPLE < n ? PEOPLE : n - i0;
        for (int64_t k = 0; k < K1; k++)
            for (int64_t t = 0; t < T_c; t++) {
                const float *g = grad_theta + (k * T + t) * n + i0;
                for (int64_t j = 0; j < size; j++)
                    local[(k * T + t) * PEOPLE + j] = g[j];
            }
        for (int64_t j = 0; j < size; j++) {
            float *o = out + (rows ? rows[i0 + j] : start + i0 + j) * K1 * T;
            for (int64_t k = 0; k < K1; k++) {
                for (int64_t t = 0; t < T_c; t++)
                    o[k * T + t] = local[(k * T + t) * PEOPLE + j];
                for (int64_t t = T_c; t < T; t++)
                    o[k * T + t] = 0.0f;
            }
        }
    }
}
