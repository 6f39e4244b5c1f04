// Dense single-precision matrix multiply with Eigen: the machine's practical compute ceiling, printed
// next to the solvers' achieved GFLOP/s. Built with the extension's flags (portable, no -march=native).
//   sgemm_gflops [size] [threads]
#include <Eigen/Core>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#ifdef _OPENMP
#include <omp.h>
#endif

int
main(int argc, char **argv)
{
    const int n = argc > 1 ? std::atoi(argv[1]) : 2048;
    const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    Eigen::setNbThreads(threads);
    Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
    c.noalias() = a * b;  // warm-up
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep)
    {
        const auto t0 = std::chrono::steady_clock::now();
        c.noalias() = a * b;
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("%.1f\n", 2.0 * n * n * double(n) / best / 1e9 + 0 * c(0, 0));
    return 0;
}
