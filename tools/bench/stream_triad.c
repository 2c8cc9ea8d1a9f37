/* STREAM triad a[i] = b[i] + s * c[i] with OpenMP, arrays far larger than the caches.
   Prints the best of NTIMES runs in GB/s counting 3 arrays of 8-byte doubles per element
   (the STREAM convention: no write-allocate traffic counted). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define N 40000000L
#define NTIMES 10

int main(void) {
    double *a = malloc(N * sizeof(double)), *b = malloc(N * sizeof(double)), *c = malloc(N * sizeof(double));
    if (!a || !b || !c) return 1;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < N; i++) { a[i] = 1.0; b[i] = 2.0; c[i] = 0.5; }
    double best = 1e30, s = 3.0;
    for (int k = 0; k < NTIMES; k++) {
        double t = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < N; i++) a[i] = b[i] + s * c[i];
        t = omp_get_wtime() - t;
        if (t < best) best = t;
    }
    double check = 0;
    for (long i = 0; i < N; i += 4096) check += a[i];
    printf("n %ld\narray_MiB %.1f\ntriad_best_s %.6f\ntriad_GBps %.3f\ncheck %g\nthreads %d\n", N,
           N * 8.0 / 1048576.0, best, 3.0 * 8.0 * N / best / 1e9, check, omp_get_max_threads());
    free(a); free(b); free(c);
    return 0;
}
