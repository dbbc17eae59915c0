// Decode throughput of the sans-IO parsers, reported as bytes/s, frames/s and as a multiple of
// the wire rate each link runs at (MSP at 921,600 baud 8N1 = 92,160 bytes/s).
#include <benchmark/benchmark.h>

#include "protocols/jig/jig.hpp"
#include "protocols/msp/messages.hpp"

using namespace rig;

namespace {
constexpr double kMspWireBytesPerS = 921600.0 / 10.0;  // 8N1: 10 bits per byte
constexpr double kJigWireBytesPerS = 115200.0 / 10.0;

Bytes msp_stream(std::size_t frames) {
    Bytes out;
    msp::MotorTelemetry t;
    for (int i = 0; i < 4; ++i) t.motors.push_back({static_cast<std::uint32_t>(9800 + i), 0.1, 31, 16.8, 1.92, 12});
    msp::RawImu imu{{1, -2, 2048}, {3, 4, -5}, {0, 0, 0}};
    for (std::size_t i = 0; i < frames; ++i) {
        auto f = (i % 2) ? msp::encode(msp::make_reply(t)) : msp::encode(msp::make_reply(imu, msp::Version::v2));
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

void report(benchmark::State& state, std::size_t bytes, std::size_t frames, double wire) {
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["frames/s"] = benchmark::Counter(static_cast<double>(state.iterations() * frames), benchmark::Counter::kIsRate);
    // How many times faster than the wire: bytes per second over the link's bytes per second.
    state.counters["x_wire"] = benchmark::Counter(static_cast<double>(state.iterations() * bytes) / wire, benchmark::Counter::kIsRate);
}
}  // namespace

static void BM_MspParse(benchmark::State& state) {
    const auto stream = msp_stream(1000);
    const auto chunk = static_cast<std::size_t>(state.range(0));
    std::size_t frames = 0;
    for (auto _ : state) {
        msp::Parser p;
        frames = 0;
        for (std::size_t off = 0; off < stream.size(); off += chunk)
            frames += p.feed(ByteView(stream).subspan(off, std::min(chunk, stream.size() - off))).size();
        benchmark::DoNotOptimize(frames);
    }
    report(state, stream.size(), frames, kMspWireBytesPerS);
}
BENCHMARK(BM_MspParse)->Arg(1)->Arg(64)->Arg(4096);

static void BM_JigParse(benchmark::State& state) {
    Bytes stream;
    for (int i = 0; i < 1000; ++i) {
        auto f = jig::encode({jig::Kind::response, static_cast<std::uint8_t>(i), jig::Command::read_dut_supply, jig::encode_supply({16.8, 0.28})});
        stream.insert(stream.end(), f.begin(), f.end());
    }
    std::size_t frames = 0;
    for (auto _ : state) {
        jig::Parser p;
        frames = p.feed(stream).size();
        benchmark::DoNotOptimize(frames);
    }
    report(state, stream.size(), frames, kJigWireBytesPerS);
}
BENCHMARK(BM_JigParse);

BENCHMARK_MAIN();
