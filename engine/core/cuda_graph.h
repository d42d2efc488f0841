#pragma once
// One stretch of work on a context's stream, captured once as a CUDA graph and replayed: a whole
// training iteration becomes one launch. The work must only enqueue (no host synchronisation, no
// allocation); it is captured with whatever pointers it uses, so those must stay fixed.
#include "engine/core/context.h"
#include "kernels/cuda/graph_nodes.h"

#include <functional>

namespace sgan {

using CudaGraphNodes = cuda::GraphNodes;

class CudaGraph {
 public:
  CudaGraph() = default;
  ~CudaGraph();
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Captures `work` (which is not executed by the capture itself).
  void capture(Context& ctx, const std::function<void()>& work);
  void replay(Context& ctx);
  bool captured() const { return exec_ != nullptr; }
  CudaGraphNodes nodes() const;

 private:
  void* graph_ = nullptr;  // cudaGraph_t
  void* exec_ = nullptr;   // cudaGraphExec_t
};

}  // namespace sgan
