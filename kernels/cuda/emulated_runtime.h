#pragma once
// The CUDA runtime and cuBLAS calls our host code makes, on the CPU, for the emulated tests
// (kernels/cuda/emulation.h includes this; tests/emulation/runtime.cpp implements it). With it
// the engine's cuda backend runs whole training iterations, CUDA graphs included, on a machine
// without a GPU:
//
// * "device" memory is host memory; every operation on a stream runs at once, in call order, so
//   nothing is ever pending and a synchronization has nothing to wait for;
// * one device, ordinal 0;
// * a stream being captured (cudaStreamBeginCapture) runs nothing: kernel launches, cuBLAS GEMMs
//   and device-to-device copies and memsets on it are recorded, their arguments copied as a
//   launch copies them, and cudaGraphLaunch runs the recording. cudaGraphGetNodes and
//   cudaGraphNodeGetType list what it recorded as the GPU's capture makes nodes: one a kernel
//   launch or GEMM (kernel), copy, memset, cudaMallocAsync (memory allocation), cudaFreeAsync
//   (memory free) and graph launch (child graph). As in CUDA's thread-local capture
//   mode, what the GPU refuses during a capture fails here too and invalidates the capture: a
//   synchronizing call (cudaMalloc, cudaFree, cudaMemcpy, cudaMemset, cudaStreamSynchronize), or
//   work on the legacy default stream (stream 0). cudaMallocAsync on the capturing stream gives
//   memory the graph owns, freed with the graph, as a graph's memory nodes do;
// * cublasSgemm is a plain loop summing in float with FMAs; beta = 0 leaves C unread, as
//   cuBLAS does.
//
// Copies between host and device memory during a capture are not modelled (the emulation cannot
// tell the two apart) and throw. The emulated tests do not link the CUDA runtime or cuBLAS, so a
// call not redirected here is a link error, never the real library failing without a device.
#if !defined(SGAN_CUDA_EMULATION)
#error "kernels/cuda/emulated_runtime.h is for the emulated tests only (SGAN_CUDA_EMULATION)"
#endif

#include <cstddef>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <functional>

namespace sgan::emulation {

cudaError_t get_device_count(int* count);
cudaError_t set_device(int ordinal);
cudaError_t get_device(int* ordinal);
cudaError_t get_device_properties(cudaDeviceProp* properties, int ordinal);
cudaError_t get_last_error();
const char* get_error_string(cudaError_t error);

cudaError_t malloc(void** pointer, std::size_t bytes);
cudaError_t free(void* pointer);
cudaError_t malloc_async(void** pointer, std::size_t bytes, cudaStream_t stream);
cudaError_t free_async(void* pointer, cudaStream_t stream);
cudaError_t memset(void* pointer, int value, std::size_t bytes);
cudaError_t memcpy(void* destination, const void* source, std::size_t bytes, cudaMemcpyKind kind);
cudaError_t memset_async(void* pointer, int value, std::size_t bytes, cudaStream_t stream);
cudaError_t memcpy_async(void* destination, const void* source, std::size_t bytes,
                         cudaMemcpyKind kind, cudaStream_t stream);
cudaError_t device_synchronize();

cudaError_t stream_create(cudaStream_t* stream);
cudaError_t stream_create_with_flags(cudaStream_t* stream, unsigned int flags);
cudaError_t stream_destroy(cudaStream_t stream);
cudaError_t stream_synchronize(cudaStream_t stream);
cudaError_t stream_begin_capture(cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t stream_end_capture(cudaStream_t stream, cudaGraph_t* graph);
cudaError_t graph_instantiate(cudaGraphExec_t* exec, cudaGraph_t graph,
                              unsigned long long flags = 0);
cudaError_t graph_launch(cudaGraphExec_t exec, cudaStream_t stream);
cudaError_t graph_destroy(cudaGraph_t graph);
cudaError_t graph_exec_destroy(cudaGraphExec_t exec);
cudaError_t graph_get_nodes(cudaGraph_t graph, cudaGraphNode_t* nodes, std::size_t* count);
cudaError_t graph_node_get_type(cudaGraphNode_t node, cudaGraphNodeType* type);

// Runs `work` now, or records it as a graph node of type `node` where `stream` is being captured;
// an error where the GPU would refuse work on `stream` (the legacy stream while this thread
// captures).
cudaError_t submit(cudaStream_t stream, std::function<void()> work,
                   cudaGraphNodeType node = cudaGraphNodeTypeKernel);

cublasStatus_t cublas_create(cublasHandle_t* handle);
cublasStatus_t cublas_destroy(cublasHandle_t handle);
cublasStatus_t cublas_set_stream(cublasHandle_t handle, cudaStream_t stream);
cublasStatus_t cublas_get_stream(cublasHandle_t handle, cudaStream_t* stream);
cublasStatus_t cublas_set_math_mode(cublasHandle_t handle, cublasMath_t mode);
const char* cublas_get_status_string(cublasStatus_t status);
// C = alpha op(A) op(B) + beta C, column-major, alpha and beta read from host memory.
cublasStatus_t cublas_sgemm(cublasHandle_t handle, cublasOperation_t op_a, cublasOperation_t op_b,
                            int m, int n, int k, const float* alpha, const float* a, int lda,
                            const float* b, int ldb, const float* beta, float* c, int ldc);

} // namespace sgan::emulation

// Each call redirected to its emulation. The CUDA headers define some names as macros of their
// own (cublas_v2.h's cublasSgemm -> cublasSgemm_v2, the per-thread-stream variants); those go
// first.
#undef cudaGetDeviceCount
#undef cudaSetDevice
#undef cudaGetDevice
#undef cudaGetDeviceProperties
#undef cudaGetLastError
#undef cudaGetErrorString
#undef cudaMalloc
#undef cudaFree
#undef cudaMallocAsync
#undef cudaFreeAsync
#undef cudaMemset
#undef cudaMemcpy
#undef cudaMemsetAsync
#undef cudaMemcpyAsync
#undef cudaDeviceSynchronize
#undef cudaStreamCreate
#undef cudaStreamCreateWithFlags
#undef cudaStreamDestroy
#undef cudaStreamSynchronize
#undef cudaStreamBeginCapture
#undef cudaStreamEndCapture
#undef cudaGraphInstantiate
#undef cudaGraphLaunch
#undef cudaGraphDestroy
#undef cudaGraphExecDestroy
#undef cudaGraphGetNodes
#undef cudaGraphNodeGetType
#undef cublasCreate
#undef cublasDestroy
#undef cublasSetStream
#undef cublasGetStream
#undef cublasSetMathMode
#undef cublasGetStatusString
#undef cublasSgemm
#define cudaGetDeviceCount(...) ::sgan::emulation::get_device_count(__VA_ARGS__)
#define cudaSetDevice(...) ::sgan::emulation::set_device(__VA_ARGS__)
#define cudaGetDevice(...) ::sgan::emulation::get_device(__VA_ARGS__)
#define cudaGetDeviceProperties(...) ::sgan::emulation::get_device_properties(__VA_ARGS__)
#define cudaGetLastError(...) ::sgan::emulation::get_last_error(__VA_ARGS__)
#define cudaGetErrorString(...) ::sgan::emulation::get_error_string(__VA_ARGS__)
#define cudaMalloc(...) ::sgan::emulation::malloc(__VA_ARGS__)
#define cudaFree(...) ::sgan::emulation::free(__VA_ARGS__)
#define cudaMallocAsync(...) ::sgan::emulation::malloc_async(__VA_ARGS__)
#define cudaFreeAsync(...) ::sgan::emulation::free_async(__VA_ARGS__)
#define cudaMemset(...) ::sgan::emulation::memset(__VA_ARGS__)
#define cudaMemcpy(...) ::sgan::emulation::memcpy(__VA_ARGS__)
#define cudaMemsetAsync(...) ::sgan::emulation::memset_async(__VA_ARGS__)
#define cudaMemcpyAsync(...) ::sgan::emulation::memcpy_async(__VA_ARGS__)
#define cudaDeviceSynchronize(...) ::sgan::emulation::device_synchronize(__VA_ARGS__)
#define cudaStreamCreate(...) ::sgan::emulation::stream_create(__VA_ARGS__)
#define cudaStreamCreateWithFlags(...) ::sgan::emulation::stream_create_with_flags(__VA_ARGS__)
#define cudaStreamDestroy(...) ::sgan::emulation::stream_destroy(__VA_ARGS__)
#define cudaStreamSynchronize(...) ::sgan::emulation::stream_synchronize(__VA_ARGS__)
#define cudaStreamBeginCapture(...) ::sgan::emulation::stream_begin_capture(__VA_ARGS__)
#define cudaStreamEndCapture(...) ::sgan::emulation::stream_end_capture(__VA_ARGS__)
#define cudaGraphInstantiate(...) ::sgan::emulation::graph_instantiate(__VA_ARGS__)
#define cudaGraphLaunch(...) ::sgan::emulation::graph_launch(__VA_ARGS__)
#define cudaGraphDestroy(...) ::sgan::emulation::graph_destroy(__VA_ARGS__)
#define cudaGraphExecDestroy(...) ::sgan::emulation::graph_exec_destroy(__VA_ARGS__)
#define cudaGraphGetNodes(...) ::sgan::emulation::graph_get_nodes(__VA_ARGS__)
#define cudaGraphNodeGetType(...) ::sgan::emulation::graph_node_get_type(__VA_ARGS__)
#define cublasCreate(...) ::sgan::emulation::cublas_create(__VA_ARGS__)
#define cublasDestroy(...) ::sgan::emulation::cublas_destroy(__VA_ARGS__)
#define cublasSetStream(...) ::sgan::emulation::cublas_set_stream(__VA_ARGS__)
#define cublasGetStream(...) ::sgan::emulation::cublas_get_stream(__VA_ARGS__)
#define cublasSetMathMode(...) ::sgan::emulation::cublas_set_math_mode(__VA_ARGS__)
#define cublasGetStatusString(...) ::sgan::emulation::cublas_get_status_string(__VA_ARGS__)
#define cublasSgemm(...) ::sgan::emulation::cublas_sgemm(__VA_ARGS__)
