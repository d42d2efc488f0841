// CudaGraph::nodes counts what a capture made: one kernel node per launch, one node per memset
// and copy, and a memory allocation and a memory free node per stream-ordered scratch buffer
// (CUDA programming guide, "Graph Memory Nodes"), here from work whose launches are known.
#include "engine/core/context.h"
#include "engine/core/cuda_graph.h"
#include "kernels/activation.h"
#include "kernels/cuda/batchnorm_variants.h"
#include "tests/support/gpu.h"

#include <cstddef>
#include <gtest/gtest.h>
#include <stdexcept>
#include <vector>

namespace sgan {
namespace {

TEST(CudaGraphTest, NodesCountEachLaunchCopyMemsetAndScratchBuffer) {
  SGAN_REQUIRE_GPU();
  Context ctx(Backend::cuda);
  const BatchNormShape s{4, 3, 5};
  test::DeviceBuffer<float> x(std::vector<float>(s.size(), 1.0f)), y(s.size()), z(s.size());
  test::DeviceBuffer<float> gamma(std::vector<float>(s.c, 1.0f)), beta(std::vector<float>(s.c));
  test::DeviceBuffer<float> running_mean(std::vector<float>(s.c)), saved_mean(s.c);
  test::DeviceBuffer<float> running_var(std::vector<float>(s.c, 1.0f)), saved_invstd(s.c);
  CudaGraph graph;
  graph.capture(ctx, [&] {
    // 2 kernels: one launch each.
    cuda::activation_forward(Activation::relu(), s.size(), x.get(), y.get(), ctx.stream());
    cuda::activation_forward(Activation::tanh(), s.size(), y.get(), y.get(), ctx.stream());
    // 2 kernels (partial sums, then normalisation) on a scratch buffer: its allocation and free.
    cuda::batchnorm_forward_train(cuda::BatchNormVariant::split_channels, s, BatchNormHyper{},
                                  y.get(), gamma.get(), beta.get(), z.get(), running_mean.get(),
                                  running_var.get(), saved_mean.get(), saved_invstd.get(),
                                  Activation::identity(), ctx.stream());
    ctx.copy(y.get(), z.get(), s.size() * sizeof(float)); // a copy
    ctx.zero(z.get(), s.size() * sizeof(float));          // a memset
  });
  const CudaGraphNodes nodes = graph.nodes();
  EXPECT_EQ(nodes.kernels, 4u);
  EXPECT_EQ(nodes.total, 8u);
}

TEST(CudaGraphTest, NodesOfAGraphNeverCapturedIsAnError) {
  const CudaGraph graph;
  EXPECT_THROW(graph.nodes(), std::logic_error);
}

} // namespace
} // namespace sgan
