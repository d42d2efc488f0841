#include "engine/core/arena.h"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>

namespace sgan {

namespace {
constexpr std::size_t alignment = 256;
std::size_t align_up(std::size_t n) { return (n + alignment - 1) / alignment * alignment; }
} // namespace

Arena::Arena(Context& ctx, std::size_t chunk_bytes) : ctx_(ctx), chunk_bytes_(chunk_bytes) {}

Arena::~Arena() {
  ctx_.synchronize();
  for (const Chunk& c : chunks_) ctx_.release(c.base);
}

void* Arena::allocate_bytes(std::size_t bytes) {
  if (frozen_)
    throw std::logic_error(fmt::format(
        "memory request of {} bytes after the arena was frozen: a training step must not allocate",
        bytes));
  const std::size_t need = align_up(std::max<std::size_t>(bytes, 1));
  if (chunks_.empty() || chunks_.back().bytes - chunks_.back().used < need) {
    const std::size_t size = std::max(chunk_bytes_, need);
    chunks_.push_back({static_cast<std::uint8_t*>(ctx_.allocate(size)), size, 0});
  }
  Chunk& c = chunks_.back();
  void* p = c.base + c.used;
  c.used += need;
  in_use_ += need;
  return p;
}

} // namespace sgan
