#include "engine/core/cuda_graph.h"

#include <stdexcept>

#if defined(SGAN_WITH_CUDA)
#include "kernels/cuda/check.h"
#endif

namespace sgan {

#if defined(SGAN_WITH_CUDA)

CudaGraph::~CudaGraph() {
  if (exec_) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
  if (graph_) cudaGraphDestroy(static_cast<cudaGraph_t>(graph_));
}

void CudaGraph::capture(Context& ctx, const std::function<void()>& work) {
  if (ctx.device() != Device::cuda) throw std::logic_error("CUDA graphs need a CUDA backend");
  if (captured()) throw std::logic_error("this CUDA graph is already captured");
  CUDA_CHECK(cudaStreamBeginCapture(ctx.stream(), cudaStreamCaptureModeThreadLocal));
  try {
    work();
  } catch (...) {
    cudaGraph_t broken = nullptr;
    cudaStreamEndCapture(ctx.stream(), &broken);
    if (broken) cudaGraphDestroy(broken);
    cudaGetLastError();
    throw;
  }
  cudaGraph_t graph = nullptr;
  CUDA_CHECK(cudaStreamEndCapture(ctx.stream(), &graph));
  graph_ = graph;
  cudaGraphExec_t exec = nullptr;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  exec_ = exec;
}

void CudaGraph::replay(Context& ctx) {
  if (!captured()) throw std::logic_error("replay of a CUDA graph that was never captured");
  CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), ctx.stream()));
}

CudaGraphNodes CudaGraph::nodes() const {
  if (!captured()) throw std::logic_error("nodes of a CUDA graph that was never captured");
  return cuda::graph_nodes(static_cast<cudaGraph_t>(graph_));
}

#else

CudaGraph::~CudaGraph() = default;
void CudaGraph::capture(Context&, const std::function<void()>&) {
  throw std::logic_error("CUDA graphs need a build with the CUDA backend");
}
void CudaGraph::replay(Context&) {
  throw std::logic_error("CUDA graphs need a build with the CUDA backend");
}
CudaGraphNodes CudaGraph::nodes() const {
  throw std::logic_error("CUDA graphs need a build with the CUDA backend");
}

#endif

} // namespace sgan
