#pragma once
// One stretch of work on a context's stream, captured once as a CUDA graph and replayed: a whole
// training iteration becomes one launch. The work must only enqueue (no host synchronisation, no
// allocation); it is captured with whatever pointers it uses, so those must stay fixed.
#include <cstddef>
#include <functional>

#include "engine/core/context.h"

namespace sgan {

// The nodes of a captured graph: every one, and the kernels among them (our launches, cuBLAS's
// GEMMs). The rest are copies, memsets and the memory nodes of stream-ordered allocations. A
// replay runs each node, so each costs its launch gap however short its work.
struct CudaGraphNodes {
  std::size_t total = 0, kernels = 0;
};

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
