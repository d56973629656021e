/* Per-age loop of one block of the age-major signature kernel (float32).

   latentlab.signatures._native compiles this file on first use and calls
   block_ages through ctypes (which releases the GIL); _ages.block_terms
   documents the layouts and runs the same steps with torch operations where
   no C compiler or no BLAS sgemm is found. Compiled without fast-math and
   without contraction to FMA, so each step rounds as the torch steps do.

   For ages t in [t0, t1) of one block of n people:
     w = aug[t] theta[:, t, :]             (D x n; aug holds -kappa sigma and 1)
     clamp w to [lo, hi] where flags[t] (eps and 1 - eps as float32); w = 1
     for the pairs after E; count w <= lo (clamped ages, count_high);
     product = w (t0) or product * w
     pi at the events of age t: sum_k theta kappa sigma, clamped where clamp;
     ev_total += -(log pi - log1p(-pi))
   and, where want:
     g = 1 / w; 0 after E; -1/pi at the events
     grad_theta[:, t, :] = theta (S g - sum_k theta (S g))   (softmax backward)
     grad_s[t] += theta[:K1, t, :] g^T
   The caller takes the log of product after the call (once per group of ages).

   BLAS: gemm is a Fortran sgemm_; its integer arguments point to int64
   values, so an LP64 and an ILP64 sgemm_ read the same numbers (little-endian).
*/
#include <math.h>
#include <stdint.h>
#include <string.h>

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

int latentlab_native_version(void) { return 1; }

/* Row-major C = A B for a load-time check of the BLAS found. */
void latentlab_mm(void *gemm, int64_t m, int64_t n, int64_t k, const float *A,
                  const float *B, float *C) {
    mm((gemm_fn)gemm, 0, 0, m, n, k, A, k, B, n, 0.0f, C, n);
}

void block_ages(void *gemm_ptr, int64_t t0, int64_t t1, int64_t T, int64_t D,
                int64_t n, int64_t K1, const float *restrict aug,
                const float *restrict theta, float *restrict w,
                float *restrict product, const int64_t *after,
                const int64_t *after_counts, const int64_t *ev_cell,
                const int64_t *ev_bounds, const uint8_t *flags, int clamp, float lo,
                float hi, int count_high, int64_t *n_high, double *ev_total, int want,
                const float *restrict s_by_age, float *restrict grad_theta,
                float *restrict grad_s, float *restrict scratch) {
    gemm_fn gemm = (gemm_fn)gemm_ptr;
    const int64_t K2 = K1 + 1, cells = D * n, ld = T * n;
    int64_t high = 0;
    double events = 0.0;
    for (int64_t t = t0; t < t1; t++) {
        const float *aug_t = aug + t * D * K2, *theta_t = theta + t * n;
        mm(gemm, 0, 0, D, n, K2, aug_t, K2, theta_t, ld, 0.0f, w, n);
        const int clamped = flags != NULL && flags[t];
        if (clamped)
            for (int64_t c = 0; c < cells; c++)
                w[c] = w[c] < lo ? lo : (w[c] > hi ? hi : w[c]);
        const int64_t n_after = after_counts[t];
        for (int64_t j = 0; j < n_after; j++)
            w[after[j]] = 1.0f;
        if (count_high && clamped)
            for (int64_t c = 0; c < cells; c++)
                high += w[c] <= lo;
        if (t == t0)
            memcpy(product, w, sizeof(float) * cells);
        else
            for (int64_t c = 0; c < cells; c++)
                product[c] *= w[c];
        if (want)
            for (int64_t c = 0; c < cells; c++)
                w[c] = 1.0f / w[c];
        for (int64_t e = ev_bounds[t]; e < ev_bounds[t + 1]; e++) {
            const int64_t d = ev_cell[e] / n, i = ev_cell[e] % n;
            const float *s_d = aug_t + d * K2;
            float p = 0.0f;
            for (int64_t k = 0; k < K1; k++) {
                const float term = -s_d[k] * theta_t[k * ld + i];
                p = k ? p + term : term;
            }
            if (clamp)
                p = p < lo ? lo : (p > hi ? hi : p);
            const float odds = logf(p) - log1pf(-p);
            events -= (double)odds;
            if (want)
                w[ev_cell[e]] = -(1.0f / p);
        }
        if (!want)
            continue;
        for (int64_t j = 0; j < n_after; j++)
            w[after[j]] = 0.0f;
        float *grad_t = grad_theta + t * n;
        mm(gemm, 0, 0, K1, n, D, s_by_age + t * K1 * D, D, w, n, 0.0f, grad_t, ld);
        mm(gemm, 0, 1, K1, D, n, theta_t, ld, w, n, 1.0f, grad_s + t * K1 * D, D);
        /* softmax backward in place: theta (g - sum_k theta g) */
        for (int64_t i = 0; i < n; i++)
            scratch[i] = theta_t[i] * grad_t[i];
        for (int64_t k = 1; k < K1; k++)
            for (int64_t i = 0; i < n; i++)
                scratch[i] += theta_t[k * ld + i] * grad_t[k * ld + i];
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
