#include "engine/io/safetensors.h"

#include "engine/io/atomic_file.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>

namespace sgan {

// Tensor bytes are written and read as they lie in memory, and safetensors data is little-endian.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

namespace {

using Json = nlohmann::ordered_json; // keeps the file's key order, so ties in offsets keep it too

// The reference implementation's bound: a larger size field means a damaged or foreign file.
constexpr std::uint64_t max_header_size = 100'000'000;
constexpr std::string_view metadata_key = "__metadata__";

constexpr std::array all_dtypes = {DType::f32, DType::f64, DType::i32, DType::i64,
                                   DType::u8,  DType::u32, DType::u64};

std::optional<DType> dtype_named(std::string_view name) {
  for (DType dtype : all_dtypes)
    if (dtype_name(dtype) == name) return dtype;
  return std::nullopt;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ","));
}

// (product of shape) * dtype_size, or nothing if that overflows 64 bits. [] is a scalar: 1 element.
std::optional<std::uint64_t> byte_size(DType dtype, const std::vector<std::int64_t>& shape) {
  std::uint64_t bytes = dtype_size(dtype);
  for (std::int64_t d : shape)
    if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(d), &bytes)) return std::nullopt;
  return bytes;
}

// ---- writing ----

void check_savable(const Safetensors& contents, const std::string& file) {
  std::set<std::string_view> names;
  for (const TensorRecord& t : contents.tensors) {
    if (t.name == metadata_key)
      throw std::invalid_argument(
          fmt::format("cannot save {}: '{}' is reserved and cannot name a tensor", file, t.name));
    if (!names.insert(t.name).second)
      throw std::invalid_argument(
          fmt::format("cannot save {}: two tensors are named '{}'", file, t.name));
    if (std::any_of(t.shape.begin(), t.shape.end(), [](std::int64_t d) { return d < 0; }))
      throw std::invalid_argument(fmt::format("cannot save {}: tensor '{}' has a negative "
                                              "dimension in shape {}",
                                              file, t.name, shape_text(t.shape)));
    const std::optional<std::uint64_t> bytes = byte_size(t.dtype, t.shape);
    if (bytes != t.data.size())
      throw std::invalid_argument(fmt::format(
          "cannot save {}: tensor '{}' ({} {}) needs {} bytes of data but has {}", file, t.name,
          dtype_name(t.dtype), shape_text(t.shape),
          bytes ? std::to_string(*bytes) : std::string("more than 2^64"), t.data.size()));
  }
}

// Descending element size, stable: every offset is then a multiple of its dtype's size.
std::vector<const TensorRecord*> data_order(const Safetensors& contents) {
  std::vector<const TensorRecord*> order;
  for (const TensorRecord& t : contents.tensors) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const TensorRecord* a, const TensorRecord* b) {
    return dtype_size(a->dtype) > dtype_size(b->dtype);
  });
  return order;
}

// The JSON header, padded with spaces to a multiple of 8 bytes so the data buffer starts aligned.
std::string header_text(const std::vector<const TensorRecord*>& order,
                        const std::map<std::string, std::string>& metadata,
                        const std::string& file) {
  Json header = Json::object();
  if (!metadata.empty()) header[std::string(metadata_key)] = metadata;
  std::uint64_t offset = 0;
  for (const TensorRecord* t : order) {
    Json info = Json::object();
    info["dtype"] = dtype_name(t->dtype);
    info["shape"] = t->shape;
    info["data_offsets"] = Json::array({offset, offset + t->data.size()});
    header[t->name] = std::move(info);
    offset += t->data.size();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::type_error&) {
    throw std::invalid_argument(
        fmt::format("cannot save {}: tensor names and metadata must be valid UTF-8", file));
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

void write_u64_little_endian(std::ostream& out, std::uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.write(bytes, 8);
}

// ---- reading ----

struct HeaderEntry {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin, end; // data_offsets
};

struct Header {
  std::map<std::string, std::string> metadata;
  std::vector<HeaderEntry> entries; // in the JSON's order
};

[[noreturn]] void fail(const std::string& file, const std::string& problem) {
  throw std::runtime_error(file + ": " + problem);
}

// Parses the JSON, rejecting a key repeated within one object (the JSON library would keep one).
Json parse_json_rejecting_duplicate_keys(const std::string& text, const std::string& file) {
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  Json json;
  try {
    json = Json::parse(text, [&](int, Json::parse_event_t event, Json& parsed) {
      if (event == Json::parse_event_t::object_start) open_objects.emplace_back();
      if (event == Json::parse_event_t::object_end) open_objects.pop_back();
      if (event == Json::parse_event_t::key && !duplicate &&
          !open_objects.back().insert(parsed.get<std::string>()).second)
        duplicate = parsed.get<std::string>();
      return true;
    });
  } catch (const Json::parse_error& e) {
    fail(file, fmt::format("the header is not valid JSON (error at header byte {})", e.byte));
  } catch (const Json::out_of_range&) { // a number literal past the largest double
    fail(file, "the header holds a number too large for a double (damaged, or not safetensors)");
  }
  if (duplicate) fail(file, fmt::format("the header names '{}' twice", *duplicate));
  return json;
}

std::map<std::string, std::string> parse_metadata(const Json& json, const std::string& file) {
  if (!json.is_object()) fail(file, fmt::format("\"{}\" is not an object", metadata_key));
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : json.items()) {
    if (!value.is_string())
      fail(file, fmt::format("\"{}\" entry '{}' is a {}, not a string", metadata_key, key,
                             value.type_name()));
    metadata[key] = value.get<std::string>();
  }
  return metadata;
}

bool is_list_of_naturals(const Json& json) {
  return json.is_array() && std::all_of(json.begin(), json.end(), [](const Json& v) {
           return v.is_number_unsigned() &&
                  v.get<std::uint64_t>() <= std::uint64_t{std::numeric_limits<std::int64_t>::max()};
         });
}

HeaderEntry parse_entry(const std::string& name, const Json& json, const std::string& file) {
  if (!json.is_object())
    fail(file, fmt::format("the entry for tensor '{}' is not an object", name));
  for (const auto& [key, value] : json.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      fail(file, fmt::format("tensor '{}' has an unexpected field \"{}\"", name, key));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!json.contains(key)) fail(file, fmt::format("tensor '{}' has no \"{}\"", name, key));

  const Json& dtype_json = json["dtype"];
  const std::optional<DType> dtype =
      dtype_json.is_string() ? dtype_named(dtype_json.get<std::string>()) : std::nullopt;
  if (!dtype)
    fail(file, fmt::format("tensor '{}' has dtype {}, which is not one of F32, F64, I32, I64, U8, "
                           "U32, U64",
                           name, dtype_json.dump()));
  const Json& shape_json = json["shape"];
  if (!is_list_of_naturals(shape_json))
    fail(file, fmt::format("tensor '{}' has shape {}, not a list of non-negative integers", name,
                           shape_json.dump()));
  const Json& offsets_json = json["data_offsets"];
  if (!is_list_of_naturals(offsets_json) || offsets_json.size() != 2 ||
      offsets_json[0].get<std::uint64_t>() > offsets_json[1].get<std::uint64_t>())
    fail(file, fmt::format("tensor '{}' has data_offsets {}, not a pair [begin, end] with "
                           "begin <= end",
                           name, offsets_json.dump()));

  HeaderEntry entry{name, *dtype, shape_json.get<std::vector<std::int64_t>>(),
                    offsets_json[0].get<std::uint64_t>(), offsets_json[1].get<std::uint64_t>()};
  const std::optional<std::uint64_t> bytes = byte_size(entry.dtype, entry.shape);
  if (!bytes)
    fail(file, fmt::format("tensor '{}' has shape {}, too large to address", name,
                           shape_text(entry.shape)));
  if (*bytes != entry.end - entry.begin)
    fail(file, fmt::format("tensor '{}' is {} {}, {} bytes, but its data_offsets [{}, {}] span {}",
                           name, dtype_name(entry.dtype), shape_text(entry.shape), *bytes,
                           entry.begin, entry.end, entry.end - entry.begin));
  return entry;
}

Header parse_header(const std::string& text, const std::string& file) {
  if (text.empty() || text.front() != '{')
    fail(file, "the header does not start with '{' (not a safetensors file, or damaged)");
  const Json json = parse_json_rejecting_duplicate_keys(text, file);
  Header header;
  for (const auto& [key, value] : json.items()) {
    if (key == metadata_key)
      header.metadata = parse_metadata(value, file);
    else
      header.entries.push_back(parse_entry(key, value, file));
  }
  return header;
}

// Orders the entries by offset and checks that they tile the data buffer of `data_size` bytes.
void check_tiling(std::vector<HeaderEntry>& entries, std::uint64_t data_size,
                  const std::string& file) {
  std::stable_sort(entries.begin(), entries.end(), [](const HeaderEntry& a, const HeaderEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const HeaderEntry& e = entries[i];
    if (e.begin < covered)
      fail(file, fmt::format("tensors '{}' and '{}' overlap in the data buffer (data_offsets "
                             "[{}, {}] and [{}, {}])",
                             entries[i - 1].name, e.name, entries[i - 1].begin, entries[i - 1].end,
                             e.begin, e.end));
    if (e.begin > covered)
      fail(file, fmt::format("bytes [{}, {}) of the data buffer belong to no tensor (a gap before "
                             "tensor '{}')",
                             covered, e.begin, e.name));
    covered = e.end;
  }
  if (covered > data_size)
    fail(file, fmt::format("the tensor data is truncated: the header describes {} bytes, the file "
                           "holds {}",
                           covered, data_size));
  if (covered < data_size)
    fail(file, fmt::format("{} bytes follow the last tensor (the header describes {} bytes of "
                           "data, the file holds {})",
                           data_size - covered, covered, data_size));
}

std::uint64_t read_u64_little_endian(std::istream& in) {
  unsigned char bytes[8];
  in.read(reinterpret_cast<char*>(bytes), 8);
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

} // namespace

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
  case DType::u8:
    return 1;
  case DType::f32:
  case DType::i32:
  case DType::u32:
    return 4;
  case DType::f64:
  case DType::i64:
  case DType::u64:
    return 8;
  }
  throw std::invalid_argument("unknown DType");
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
  case DType::f32:
    return "F32";
  case DType::f64:
    return "F64";
  case DType::i32:
    return "I32";
  case DType::i64:
    return "I64";
  case DType::u8:
    return "U8";
  case DType::u32:
    return "U32";
  case DType::u64:
    return "U64";
  }
  throw std::invalid_argument("unknown DType");
}

const TensorRecord* Safetensors::find(std::string_view name) const {
  for (const TensorRecord& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const TensorRecord& Safetensors::at(std::string_view name) const {
  if (const TensorRecord* t = find(name)) return *t;
  throw std::runtime_error(fmt::format(
      "no tensor '{}' in {}", name, file.empty() ? "these safetensors contents" : file.string()));
}

void save_safetensors(const std::filesystem::path& path, const Safetensors& contents) {
  const std::string file = path.string();
  check_savable(contents, file);
  const std::vector<const TensorRecord*> order = data_order(contents);
  const std::string header = header_text(order, contents.metadata, file);
  write_file_atomically(path, [&](std::ostream& out) {
    write_u64_little_endian(out, header.size());
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const TensorRecord* t : order)
      out.write(reinterpret_cast<const char*>(t->data.data()),
                static_cast<std::streamsize>(t->data.size()));
  });
}

Safetensors load_safetensors(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code error;
  const std::uintmax_t file_size = std::filesystem::file_size(path, error);
  if (error) fail(file, fmt::format("cannot read the file: {}", error.message()));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(file, fmt::format("cannot open the file: {}", std::system_category().message(errno)));
  if (file_size < 8)
    fail(file, fmt::format("the file is {} bytes, too short for a safetensors header (truncated?)",
                           file_size));

  const std::uint64_t header_size = read_u64_little_endian(in);
  if (header_size > max_header_size)
    fail(file, fmt::format("the header size field says {} bytes, more than the {}-byte limit (not "
                           "a safetensors file, or damaged)",
                           header_size, max_header_size));
  if (header_size > file_size - 8)
    fail(file, fmt::format("the header size field says {} bytes but only {} follow (the file is "
                           "truncated)",
                           header_size, file_size - 8));
  std::string header_bytes(header_size, '\0');
  in.read(header_bytes.data(), static_cast<std::streamsize>(header_size));
  Header header = parse_header(header_bytes, file);
  check_tiling(header.entries, file_size - 8 - header_size, file);

  Safetensors contents{{}, std::move(header.metadata), path};
  for (HeaderEntry& e : header.entries) {
    TensorRecord& t = contents.tensors.emplace_back(
        TensorRecord{std::move(e.name), e.dtype, std::move(e.shape), {}});
    t.data.resize(e.end - e.begin);
    in.read(reinterpret_cast<char*>(t.data.data()), static_cast<std::streamsize>(t.data.size()));
  }
  if (!in) fail(file, "the file ended early while it was being read (was it being rewritten?)");
  return contents;
}

void expect_record(const TensorRecord& record, DType dtype, const std::vector<std::int64_t>& shape,
                   const std::filesystem::path& file) {
  if (record.dtype != dtype)
    throw std::runtime_error(fmt::format("tensor '{}' in {} has dtype {}, expected {}", record.name,
                                         file.string(), dtype_name(record.dtype),
                                         dtype_name(dtype)));
  if (record.shape != shape)
    throw std::runtime_error(fmt::format("tensor '{}' in {} has shape {}, expected {}", record.name,
                                         file.string(), shape_text(record.shape),
                                         shape_text(shape)));
}

} // namespace sgan
