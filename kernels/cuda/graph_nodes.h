#pragma once
// The nodes of a captured CUDA graph: every one, and the kernels among them (our launches,
// cuBLAS's GEMMs). The rest are copies, memsets and the memory nodes of stream-ordered
// allocations. A replay runs each node, so each costs its launch gap however short its work.
// The engine's CudaGraph reports them, and the kernels' tests count the launches a call makes.
#include <cstddef>

#if defined(SGAN_WITH_CUDA)
#include "kernels/cuda/check.h"

#include <vector>
#endif

namespace sgan::cuda {

struct GraphNodes {
  std::size_t total = 0, kernels = 0;
};

#if defined(SGAN_WITH_CUDA)
inline GraphNodes graph_nodes(cudaGraph_t graph) {
  std::size_t count = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &count));
  std::vector<cudaGraphNode_t> nodes(count);
  CUDA_CHECK(cudaGraphGetNodes(graph, nodes.data(), &count));
  GraphNodes result;
  result.total = count;
  for (const cudaGraphNode_t node : nodes) {
    cudaGraphNodeType type{};
    CUDA_CHECK(cudaGraphNodeGetType(node, &type));
    result.kernels += type == cudaGraphNodeTypeKernel;
  }
  return result;
}
#endif

} // namespace sgan::cuda
