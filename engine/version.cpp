// The engine library needs at least one source until its parts land; this names the build.
namespace sgan {
const char* engine_build() { return "sgan " __DATE__; }
}  // namespace sgan
