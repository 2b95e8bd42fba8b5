// An MPI program for //third_party/smoke:mpi_smoke_test: every rank contributes
// rank + 1 to an allreduce and its rank to an allgather, and rank 0 prints what
// it received, so the test sees that ranks started, found each other and
// communicated over the transports of MpirunOptions() (base/test_binary.h).
#include <mpi.h>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  double mine = rank + 1, sum = 0;
  MPI_Allreduce(&mine, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  std::vector<int> ranks(size, -1);
  MPI_Allgather(&rank, 1, MPI_INT, ranks.data(), 1, MPI_INT, MPI_COMM_WORLD);
  if (rank == 0) {
    std::printf("size %d sum %g gathered", size, sum);
    for (int r : ranks) std::printf(" %d", r);
    std::printf("\n");
  }
  MPI_Finalize();
  return 0;
}
