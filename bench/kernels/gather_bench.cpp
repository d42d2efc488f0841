// The batch gather that assembles a batch of images from the resident training set by shuffled
// indices; no vendor twin.
#include "bench/kernels/cases.h"

#if defined(SGAN_WITH_CUDNN)
#include "kernels/elementwise.h"

#include <cstdint>

namespace sgan::bench {
namespace {

struct GatherCase {
  const char* name;
  int rows_per_batch; // the trainer gathers n labeled and n unlabeled images, one call each
  int source_rows;
  int row_size;
};

// Add a row to time another size.
const GatherCase gather_cases[] = {
    {"mnist.train", 1, 60000, 28 * 28},
};

// Reads the indices and the gathered rows, writes the batch.
void register_gather(Gpu& gpu, const GatherCase& c, int rows) {
  const int source_rows = c.source_rows;
  const std::size_t row_size = std::size_t(c.row_size);
  register_case(case_name("gather_rows", "fwd", c.name, rows), gpu,
                [rows, source_rows, row_size](benchmark::State& state, Gpu& g) {
                  const DeviceArray<float> source(std::size_t(source_rows) * row_size);
                  const auto index = random_indices(std::size_t(rows), 1, source_rows);
                  const DeviceArray<float> batch(std::size_t(rows) * row_size);
                  time_case(state, g, Work::floats(2.0 * double(rows) * double(row_size) + rows),
                            [&] {
                              cuda::gather_rows<float>(rows, row_size, source.get(), index.get(),
                                                       batch.get(), g.stream());
                            });
                });
}

} // namespace

void register_gather_cases(Gpu& gpu) {
  for (const GatherCase& c : gather_cases)
    for (const int batch : recipe_batches) register_gather(gpu, c, c.rows_per_batch * batch);
}

} // namespace sgan::bench
#endif
