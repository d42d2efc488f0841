// Safetensors files: exact round trips, the exact bytes of the format (checked against a file
// assembled by hand here, an independent reader, and Python), and a clear one-sentence error for
// every kind of damaged file.
#include "engine/io/safetensors.h"

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace sgan {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "sgan_safetensors_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    directory = pattern;
  }
  void TearDown() override { fs::remove_all(directory); }

  fs::path directory;
};

template <class T> std::vector<std::byte> bytes_of(const std::vector<T>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string u64_little_endian(std::uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

// The file's first 8 bytes, a little-endian u64.
std::uint64_t header_size_of(const std::string& file) {
  std::uint64_t size = 0;
  for (int i = 7; i >= 0; --i) size = (size << 8) | static_cast<std::uint8_t>(file[i]);
  return size;
}

// A file as the format defines it: the header's size, the header, the data, with no checks.
std::string assemble(const std::string& header, const std::string& data) {
  return u64_little_endian(header.size()) + header + data;
}

std::string load_error(const fs::path& path) {
  try {
    load_safetensors(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(loaded without an error)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every dtype, a scalar, empty tensors, and values whose bytes a lossy path would change
// (negative zero, infinities, a NaN payload, a subnormal, integer extremes).
Safetensors varied_contents() {
  const float nan_with_payload = std::bit_cast<float>(std::uint32_t{0x7fc01234});
  Safetensors contents;
  contents.tensors = {
      {"G.dense.weight",
       DType::f32,
       {2, 3},
       bytes_of(std::vector<float>{1.5f, -0.0f, std::numeric_limits<float>::infinity(),
                                   nan_with_payload, 1e-40f, -3.25e7f})},
      {"mask", DType::u8, {5}, bytes_of(std::vector<std::uint8_t>{0, 1, 127, 128, 255})},
      {"step", DType::i64, {}, bytes_of(std::vector<std::int64_t>{123456789012345})},
      {"adam.m", DType::f64, {3}, bytes_of(std::vector<double>{0.1, -1e300, 5e-324})},
      {"labels", DType::i32, {2, 2}, bytes_of(std::vector<std::int32_t>{-1, 0, 7, INT32_MIN})},
      {"rng.counter",
       DType::u64,
       {2},
       bytes_of(std::vector<std::uint64_t>{0, std::numeric_limits<std::uint64_t>::max()})},
      {"rng.key", DType::u32, {1}, bytes_of(std::vector<std::uint32_t>{0xdeadbeef})},
      {"empty.rows", DType::f32, {0, 3}, {}},
      {"empty.columns", DType::u8, {4, 0}, {}},
  };
  contents.metadata = {{"config", R"({"lr": 0.0003, "labels": 100})"}, {"note", "µ-law, tab\t"}};
  return contents;
}

TEST_F(SafetensorsTest, RoundTripIsExact) {
  const Safetensors saved = varied_contents();
  const fs::path path = directory / "ckpt.safetensors";
  save_safetensors(path, saved);
  const Safetensors loaded = load_safetensors(path);

  EXPECT_EQ(loaded.metadata, saved.metadata);
  EXPECT_EQ(loaded.file, path);
  ASSERT_EQ(loaded.tensors.size(), saved.tensors.size());
  for (const TensorRecord& s : saved.tensors) {
    SCOPED_TRACE(s.name);
    const TensorRecord& l = loaded.at(s.name);
    EXPECT_EQ(l.dtype, s.dtype);
    EXPECT_EQ(l.shape, s.shape);
    EXPECT_EQ(l.data, s.data);
  }
  // File order: by descending element size, and within one size in the order given.
  std::vector<std::string> order;
  for (const TensorRecord& t : loaded.tensors) order.push_back(t.name);
  EXPECT_EQ(order,
            (std::vector<std::string>{"step", "adam.m", "rng.counter", "G.dense.weight", "labels",
                                      "rng.key", "empty.rows", "mask", "empty.columns"}));
}

TEST_F(SafetensorsTest, TensorsAlreadyInDataOrderRoundTripInTheirOrder) {
  Safetensors saved;
  saved.tensors = {{"b", DType::f64, {1}, bytes_of(std::vector<double>{2})},
                   {"a", DType::f32, {1}, bytes_of(std::vector<float>{1})},
                   {"c", DType::f32, {}, bytes_of(std::vector<float>{3})}};
  const fs::path path = directory / "ordered.safetensors";
  save_safetensors(path, saved);
  const Safetensors loaded = load_safetensors(path);
  ASSERT_EQ(loaded.tensors.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(loaded.tensors[i].name, saved.tensors[i].name);
    EXPECT_EQ(loaded.tensors[i].data, saved.tensors[i].data);
  }
}

TEST_F(SafetensorsTest, NoTensorsAndNoMetadataRoundTrip) {
  const fs::path path = directory / "empty.safetensors";
  save_safetensors(path, {});
  // "{}" padded with six spaces to 8 bytes, and no data.
  EXPECT_EQ(read_bytes(path), assemble("{}      ", ""));
  const Safetensors loaded = load_safetensors(path);
  EXPECT_TRUE(loaded.tensors.empty());
  EXPECT_TRUE(loaded.metadata.empty());
}

// The format written out by hand: header JSON with "__metadata__" first and the tensors in data
// order, padded with spaces to a multiple of 8; then the little-endian bytes of each tensor.
TEST_F(SafetensorsTest, FileBytesMatchTheFormatAssembledByHand) {
  Safetensors contents;
  contents.tensors = {{"w", DType::f32, {2}, bytes_of(std::vector<float>{1.0f, -2.0f})},
                      {"bytes", DType::u8, {3}, bytes_of(std::vector<std::uint8_t>{1, 2, 3})},
                      {"step", DType::i64, {}, bytes_of(std::vector<std::int64_t>{5})}};
  contents.metadata = {{"format", "pt"}};
  const fs::path path = directory / "small.safetensors";
  save_safetensors(path, contents);

  std::string header = R"({"__metadata__":{"format":"pt"},)"
                       R"("step":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                       R"("w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                       R"("bytes":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::string data = std::string("\x05\0\0\0\0\0\0\0", 8) // 5 as i64
                           + std::string("\x00\x00\x80\x3f", 4) // 1.0f = 0x3f800000
                           + std::string("\x00\x00\x00\xc0", 4) // -2.0f = 0xc0000000
                           + std::string("\x01\x02\x03", 3);
  EXPECT_EQ(read_bytes(path), assemble(header, data));
}

TEST_F(SafetensorsTest, HeaderIsPaddedToAMultipleOf8ForEveryNameLength) {
  for (std::size_t length = 1; length <= 9; ++length) {
    SCOPED_TRACE(length);
    Safetensors contents;
    contents.tensors = {{std::string(length, 'x'), DType::u8, {1}, {std::byte{42}}}};
    const fs::path path = directory / "padded.safetensors";
    save_safetensors(path, contents);
    const std::string file = read_bytes(path);
    const std::uint64_t header_size = header_size_of(file);
    EXPECT_EQ(header_size % 8, 0u);
    EXPECT_EQ(file.size(), 8 + header_size + 1);
    EXPECT_EQ(load_safetensors(path).tensors.at(0).data, contents.tensors[0].data);
  }
}

// A reader sharing no code with ours: the size field, the JSON (parsed with nlohmann's own
// parser), and each tensor's bytes found at 8 + N + begin, which must also be aligned for its
// dtype so PyTorch can view them in place.
TEST_F(SafetensorsTest, AnIndependentReaderFindsEveryTensorAligned) {
  const Safetensors saved = varied_contents();
  const fs::path path = directory / "ckpt.safetensors";
  save_safetensors(path, saved);
  const std::string file = read_bytes(path);

  const std::uint64_t header_size = header_size_of(file);
  const nlohmann::json header = nlohmann::json::parse(file.substr(8, header_size));
  EXPECT_EQ((header.at("__metadata__").get<std::map<std::string, std::string>>()), saved.metadata);
  EXPECT_EQ(header.size(), saved.tensors.size() + 1);
  const std::map<DType, std::string> names = {
      {DType::f32, "F32"}, {DType::f64, "F64"}, {DType::i32, "I32"}, {DType::i64, "I64"},
      {DType::u8, "U8"},   {DType::u32, "U32"}, {DType::u64, "U64"}};
  const std::map<DType, std::size_t> sizes = {{DType::f32, 4}, {DType::f64, 8}, {DType::i32, 4},
                                              {DType::i64, 8}, {DType::u8, 1},  {DType::u32, 4},
                                              {DType::u64, 8}};
  for (const TensorRecord& t : saved.tensors) {
    SCOPED_TRACE(t.name);
    const nlohmann::json& info = header.at(t.name);
    EXPECT_EQ(info.at("dtype").get<std::string>(), names.at(t.dtype));
    EXPECT_EQ(info.at("shape").get<std::vector<std::int64_t>>(), t.shape);
    const std::uint64_t begin = info.at("data_offsets")[0], end = info.at("data_offsets")[1];
    ASSERT_EQ(end - begin, t.data.size());
    EXPECT_EQ(file.substr(8 + header_size + begin, end - begin),
              std::string(reinterpret_cast<const char*>(t.data.data()), t.data.size()));
    EXPECT_EQ((8 + header_size + begin) % sizes.at(t.dtype), 0u);
  }
}

// ---- Python ----

// Runs a shell command, returning its exit status and what it printed.
std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char chunk[512];
  for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;) output.append(chunk, n);
  return {::pclose(pipe), output};
}

Safetensors python_contents() {
  Safetensors contents;
  contents.tensors = {
      {"w", DType::f32, {2, 2}, bytes_of(std::vector<float>{0.5f, -1.25f, 3.0f, 1024.0f})},
      {"d", DType::f64, {2}, bytes_of(std::vector<double>{0.1, -2.5})},
      {"step", DType::i64, {}, bytes_of(std::vector<std::int64_t>{123456789012})},
      {"mask", DType::u8, {3}, bytes_of(std::vector<std::uint8_t>{0, 1, 255})},
      {"labels", DType::i32, {3}, bytes_of(std::vector<std::int32_t>{-7, 0, 9})},
      {"empty", DType::f32, {0, 4}, {}}};
  contents.metadata = {{"format", "pt"}, {"note", "hi"}};
  return contents;
}

// The values of python_contents(), written out for Python to compare against.
constexpr const char* python_expected = R"(
expected = {
    "w": ("float32", [2, 2], [[0.5, -1.25], [3.0, 1024.0]]),
    "d": ("float64", [2], [0.1, -2.5]),
    "step": ("int64", [], 123456789012),
    "mask": ("uint8", [3], [0, 1, 255]),
    "labels": ("int32", [3], [-7, 0, 9]),
    "empty": ("float32", [0, 4], []),
}
expected_metadata = {"format": "pt", "note": "hi"}
)";

TEST_F(SafetensorsTest, PythonStandardLibraryParsesOurFile) {
  if (run_command("python3 -c pass").first != 0) GTEST_SKIP() << "no python3 here";
  const fs::path path = directory / "python.safetensors";
  save_safetensors(path, python_contents());
  const fs::path script = directory / "read.py";
  write_bytes(script, std::string(python_expected) + R"(
import json, struct, sys
formats = {"float32": "f", "float64": "d", "int64": "q", "uint8": "B", "int32": "i"}
names = {"float32": "F32", "float64": "F64", "int64": "I64", "uint8": "U8", "int32": "I32"}
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
assert header.pop("__metadata__") == expected_metadata
assert set(header) == set(expected), sorted(header)
def flat(v):
    return [x for row in v for x in flat(row)] if isinstance(v, list) else [v]
for name, (dtype, shape, values) in expected.items():
    info = header[name]
    assert info["dtype"] == names[dtype] and info["shape"] == shape, (name, info)
    begin, end = info["data_offsets"]
    count = (end - begin) // struct.calcsize(formats[dtype])
    got = list(struct.unpack("<%d%s" % (count, formats[dtype]), data[begin:end]))
    assert got == flat(values), (name, got)
assert max(e["data_offsets"][1] for e in header.values()) == len(data)
print("ok")
)");
  const auto [status, output] = run_command("python3 " + script.string() + " " + path.string());
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "ok\n");
}

// The reference reader, through PyTorch where it is installed and through NumPy otherwise.
TEST_F(SafetensorsTest, PythonSafetensorsPackageLoadsOurFile) {
  if (run_command("python3 -c 'import safetensors, importlib.util as u, sys; "
                  "sys.exit(not (u.find_spec(\"torch\") or u.find_spec(\"numpy\")))'")
          .first != 0)
    GTEST_SKIP() << "python3 with the safetensors package and torch or numpy is not installed";
  const fs::path path = directory / "python.safetensors";
  save_safetensors(path, python_contents());
  const fs::path script = directory / "load.py";
  write_bytes(script, std::string(python_expected) + R"(
import importlib.util, sys
from safetensors import safe_open
framework = "pt" if importlib.util.find_spec("torch") else "np"
if framework == "pt":
    from safetensors.torch import load_file
else:
    from safetensors.numpy import load_file
tensors = load_file(sys.argv[1])
assert set(tensors) == set(expected), sorted(tensors)
for name, (dtype, shape, values) in expected.items():
    t = tensors[name]
    assert str(t.dtype).replace("torch.", "") == dtype, (name, t.dtype)
    assert list(t.shape) == shape, (name, t.shape)
    assert t.tolist() == values, (name, t.tolist())
with safe_open(sys.argv[1], framework=framework) as f:
    assert f.metadata() == expected_metadata, f.metadata()
print("ok")
)");
  const auto [status, output] = run_command("python3 " + script.string() + " " + path.string());
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "ok\n");
}

// ---- damaged files ----

TEST_F(SafetensorsTest, TruncatedFileNamesTheProblem) {
  const fs::path good = directory / "good.safetensors";
  save_safetensors(good, varied_contents());
  const std::string bytes = read_bytes(good);
  const std::uint64_t header_size = header_size_of(bytes);
  const std::size_t data_start = 8 + header_size;

  struct Cut {
    std::size_t length;
    std::string problem;
  };
  const Cut cuts[] = {{0, "too short"},
                      {5, "too short"},
                      {8, "the file is truncated"},
                      {8 + header_size / 2, "the file is truncated"},
                      {data_start - 1, "the file is truncated"},
                      {data_start, "the tensor data is truncated"},
                      {data_start + 9, "the tensor data is truncated"},
                      {bytes.size() - 1, "the tensor data is truncated"}};
  const fs::path path = directory / "cut.safetensors";
  for (const Cut& cut : cuts) {
    SCOPED_TRACE(cut.length);
    write_bytes(path, bytes.substr(0, cut.length));
    const std::string message = load_error(path);
    EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u) << message;
    EXPECT_TRUE(contains(message, cut.problem)) << message;
  }
}

TEST_F(SafetensorsTest, MissingFileNamesTheFileAndTheReason) {
  const fs::path path = directory / "absent.safetensors";
  const std::string message = load_error(path);
  EXPECT_TRUE(contains(message, path.string())) << message;
  EXPECT_TRUE(contains(message, std::strerror(ENOENT))) << message;
}

// Each damaged header, assembled by hand, with the words its error must contain.
TEST_F(SafetensorsTest, DamagedHeaderNamesTheProblem) {
  struct Damaged {
    std::string header, data, problem;
  };
  const std::string four(4, '\0'), eight(8, '\0');
  const Damaged cases[] = {
      {R"( {"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x", "does not start with '{'"},
      {R"([{"a":1}])", "", "does not start with '{'"},
      {R"({"a":{"dtype":"F32",}})", "", "not valid JSON"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})", four, "not valid JSON"},
      {"{\"\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", "x", "not valid JSON"},
      {R"({"__metadata__":{"step":1e999}})", "", "holds a number too large for a double"},
      {R"({"a":{"shape":[1],"data_offsets":[0,4]}})", four, "tensor 'a' has no \"dtype\""},
      {R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", four, "tensor 'a' has no \"shape\""},
      {R"({"a":{"dtype":"F32","shape":[1]}})", four, "tensor 'a' has no \"data_offsets\""},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", four,
       "unexpected field \"x\""},
      {R"({"a":[1]})", four, "the entry for tensor 'a' is not an object"},
      {R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", four,
       "tensor 'a' has dtype \"F16\", which is not one of"},
      {R"({"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", four, "has dtype 4, which"},
      {R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four,
       "shape [-1], not a list of non-negative integers"},
      {R"({"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", four,
       "not a list of non-negative integers"},
      {R"({"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", four,
       "not a list of non-negative integers"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", four,
       "data_offsets [0], not a pair"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}})", four, "not a pair"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", four, "not a pair"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", four,
       "tensor 'a' is F32 [2], 8 bytes, but its data_offsets [0, 4] span 4"},
      {R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", four,
       "too large to address"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four,
       "the tensor data is truncated: the header describes 8 bytes, the file holds 4"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", four + "xy",
       "2 bytes follow the last tensor"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight,
       "bytes [0, 4) of the data buffer belong to no tensor"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
       eight + four,
       "bytes [4, 8) of the data buffer belong to no tensor (a gap before tensor 'b')"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       eight, "tensors 'a' and 'b' overlap"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
       R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       eight, "the header names 'a' twice"},
      {R"({"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}})", four,
       "the header names 'dtype' twice"},
      {R"({"__metadata__":[1]})", "", "\"__metadata__\" is not an object"},
      {R"({"__metadata__":{"step":3}})", "", "\"__metadata__\" entry 'step' is a number"},
  };
  const fs::path path = directory / "damaged.safetensors";
  for (const Damaged& d : cases) {
    SCOPED_TRACE(d.header);
    write_bytes(path, assemble(d.header, d.data));
    const std::string message = load_error(path);
    EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u) << message;
    EXPECT_TRUE(contains(message, d.problem)) << message;
  }
}

TEST_F(SafetensorsTest, HeaderSizeFieldOverTheLimitIsRefusedBeforeReading) {
  const fs::path path = directory / "huge.safetensors";
  write_bytes(path, u64_little_endian(std::uint64_t{1} << 40) + "{}");
  const std::string message = load_error(path);
  EXPECT_TRUE(contains(message, "more than the 100000000-byte limit")) << message;
}

// A file written by another writer may order its JSON and its data differently, leave the header
// unpadded and omit "__metadata__"; all of that is valid.
TEST_F(SafetensorsTest, LoadsValidFilesOfOtherLayouts) {
  const std::string header = R"({"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},)"
                             R"("e":{"dtype":"F64","shape":[0],"data_offsets":[6,6]},)"
                             "\n"
                             R"("a":{"dtype":"I32","shape":[],"data_offsets":[0,4]}})";
  const fs::path path = directory / "other.safetensors";
  write_bytes(path, assemble(header, std::string("\x07\0\0\0\x08\x09", 6)));
  const Safetensors loaded = load_safetensors(path);
  ASSERT_EQ(loaded.tensors.size(), 3u);
  EXPECT_EQ(loaded.tensors[0].name, "a");
  EXPECT_EQ(loaded.tensors[0].data, bytes_of(std::vector<std::int32_t>{7}));
  EXPECT_EQ(loaded.tensors[1].name, "b");
  EXPECT_EQ(loaded.tensors[1].data, bytes_of(std::vector<std::uint8_t>{8, 9}));
  EXPECT_EQ(loaded.tensors[2].name, "e");
  EXPECT_TRUE(loaded.tensors[2].data.empty());
  EXPECT_TRUE(loaded.metadata.empty());
}

// Targeted edits of a valid file's header, and then every header byte replaced in turn: each
// load either fails with a runtime_error naming the file or yields tensors whose data sizes
// agree with their shapes (some edits, such as in a metadata value, leave a valid file).
TEST_F(SafetensorsTest, AlteredHeaderBytesGiveAnErrorOrAConsistentFile) {
  Safetensors contents;
  contents.tensors = {{"w", DType::f32, {2}, bytes_of(std::vector<float>{1.0f, -2.0f})},
                      {"step", DType::i64, {}, bytes_of(std::vector<std::int64_t>{5})}};
  contents.metadata = {{"format", "pt"}};
  const fs::path good = directory / "good.safetensors";
  save_safetensors(good, contents);
  const std::string bytes = read_bytes(good);
  const fs::path path = directory / "altered.safetensors";

  const auto edited = [&](const std::string& from, const std::string& to) {
    std::string altered = bytes;
    const std::size_t at = altered.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return altered.replace(at, from.size(), to);
  };
  write_bytes(path, edited("\"F32\"", "\"F33\""));
  EXPECT_TRUE(contains(load_error(path), "tensor 'w' has dtype \"F33\""));
  write_bytes(path, edited("[2]", "[3]"));
  EXPECT_TRUE(contains(load_error(path), "tensor 'w' is F32 [3], 12 bytes"));
  write_bytes(path, edited("[0,8]", "[0,9]"));
  EXPECT_TRUE(contains(load_error(path), "tensor 'step'"));
  write_bytes(path, edited("{", "["));
  EXPECT_TRUE(contains(load_error(path), "does not start with '{'"));

  const std::uint64_t header_size = header_size_of(bytes);
  int errors = 0;
  for (std::size_t i = 0; i < 8 + header_size; ++i) {
    for (char replacement : {'\0', '"', '9', 'x', '\xff'}) {
      if (bytes[i] == replacement) continue;
      std::string altered = bytes;
      altered[i] = replacement;
      write_bytes(path, altered);
      try {
        for (const TensorRecord& t : load_safetensors(path).tensors) {
          std::size_t count = 1;
          for (std::int64_t d : t.shape) count *= static_cast<std::size_t>(d);
          EXPECT_EQ(t.data.size(), count * dtype_size(t.dtype)) << "byte " << i;
        }
      } catch (const std::runtime_error& e) {
        ++errors;
        EXPECT_EQ(std::string(e.what()).rfind(path.string() + ": ", 0), 0u) << e.what();
      }
    }
  }
  EXPECT_GT(errors, 0);
}

// ---- the API around a loaded file ----

TEST_F(SafetensorsTest, AtNamesTheMissingTensorAndTheFile) {
  const fs::path path = directory / "ckpt.safetensors";
  save_safetensors(path, varied_contents());
  const Safetensors loaded = load_safetensors(path);
  EXPECT_EQ(loaded.find("no.such.tensor"), nullptr);
  ASSERT_NE(loaded.find("step"), nullptr);
  EXPECT_EQ(loaded.find("step")->name, "step");
  try {
    loaded.at("no.such.tensor");
    ADD_FAILURE() << "at() found a tensor that is not there";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "no tensor 'no.such.tensor' in " + path.string());
  }
}

TEST_F(SafetensorsTest, ExpectRecordSaysExactlyWhatDiffers) {
  const TensorRecord record{
      "D.conv1.weight", DType::f32, {64, 1, 3, 3}, std::vector<std::byte>(64 * 9 * 4)};
  const fs::path file = "ckpt.safetensors";
  EXPECT_NO_THROW(expect_record(record, DType::f32, {64, 1, 3, 3}, file));
  try {
    expect_record(record, DType::f32, {64, 1, 4, 4}, file);
    ADD_FAILURE() << "a wrong shape passed";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "tensor 'D.conv1.weight' in ckpt.safetensors has shape "
                                     "[64,1,3,3], expected [64,1,4,4]");
  }
  try {
    expect_record(record, DType::f64, {64, 1, 3, 3}, file);
    ADD_FAILURE() << "a wrong dtype passed";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "tensor 'D.conv1.weight' in ckpt.safetensors has dtype F32, expected F64");
  }
}

TEST_F(SafetensorsTest, DTypeSizesAndNamesFollowTheFormat) {
  const std::pair<DType, std::pair<std::size_t, std::string_view>> table[] = {
      {DType::f32, {4, "F32"}}, {DType::f64, {8, "F64"}}, {DType::i32, {4, "I32"}},
      {DType::i64, {8, "I64"}}, {DType::u8, {1, "U8"}},   {DType::u32, {4, "U32"}},
      {DType::u64, {8, "U64"}}};
  for (const auto& [dtype, expected] : table) {
    EXPECT_EQ(dtype_size(dtype), expected.first);
    EXPECT_EQ(dtype_name(dtype), expected.second);
  }
}

// Contents that cannot be written are refused before anything touches the disk, so an existing
// checkpoint stays as it was.
TEST_F(SafetensorsTest, SaveRefusesInvalidContentsAndKeepsTheOldFile) {
  const fs::path path = directory / "ckpt.safetensors";
  save_safetensors(path, varied_contents());
  const std::string old_bytes = read_bytes(path);
  const TensorRecord ok{"a", DType::f32, {1}, std::vector<std::byte>(4)};
  struct Invalid {
    std::vector<TensorRecord> tensors;
    std::string problem;
  };
  const Invalid cases[] = {
      {{ok, ok}, "two tensors are named 'a'"},
      {{{"__metadata__", DType::u8, {1}, std::vector<std::byte>(1)}}, "is reserved"},
      {{{"a", DType::f32, {2, 3}, std::vector<std::byte>(20)}},
       "tensor 'a' (F32 [2,3]) needs 24 bytes of data but has 20"},
      {{{"a", DType::f32, {}, {}}}, "needs 4 bytes of data but has 0"},
      {{{"a", DType::f32, {-1}, {}}}, "negative dimension"},
      {{{"a\xff", DType::u8, {0}, {}}}, "valid UTF-8"},
  };
  for (const Invalid& c : cases) {
    SCOPED_TRACE(c.problem);
    Safetensors contents;
    contents.tensors = c.tensors;
    try {
      save_safetensors(path, contents);
      ADD_FAILURE() << "saved invalid contents";
    } catch (const std::invalid_argument& e) {
      EXPECT_TRUE(contains(e.what(), c.problem)) << e.what();
      EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
    }
    EXPECT_EQ(read_bytes(path), old_bytes);
  }
}

} // namespace
} // namespace sgan
