// Decode throughput of the sans-IO parsers. Each benchmark reports bytes/s, frames/s and
// "x_*" counters: how many times faster than the link it serves the parser runs (the counter is
// shown as a rate, so "6.6k/s" reads as 6,600 times the wire rate).
//   MSP, MAVLink: 921,600 baud 8N1 = 92,160 B/s; USB full speed bulk = 19 x 64 B per ms = 1,216,000 B/s
//   CRSF: 420,000 baud 8N1 = 42,000 B/s
//   CAN: 1 Mbit/s, extended 8-byte frames of 131 bits without stuffing = 7,633 frames/s
#include <algorithm>
#include <benchmark/benchmark.h>

#include "protocols/crsf/crsf.hpp"
#include "protocols/dronecan/messages.hpp"
#include "protocols/dronecan/node.hpp"
#include "protocols/slcan/link.hpp"
#include "protocols/jig/jig.hpp"
#include "protocols/mavlink/messages.hpp"
#include "protocols/msp/messages.hpp"
#include "protocols/slcan/slcan.hpp"

using namespace rig;

namespace {
constexpr double kUart921k = 921600.0 / 10.0;
constexpr double kUsbFullSpeed = 19.0 * 64.0 * 1000.0;
constexpr double kCrsfUart = 420000.0 / 10.0;
constexpr double kCanFramesPerS = 1e6 / 131.0;

double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

void rate(benchmark::State& s, const char* name, double value_per_iteration) {
    s.counters[name] = benchmark::Counter(value_per_iteration * static_cast<double>(s.iterations()), benchmark::Counter::kIsRate);
}

void report_bytes(benchmark::State& s, std::size_t bytes, std::size_t frames) {
    s.SetBytesProcessed(static_cast<std::int64_t>(s.iterations() * bytes));
    rate(s, "frames/s", static_cast<double>(frames));
}

template <class ParserT>
std::size_t feed_chunks(ParserT& p, const Bytes& stream, std::size_t chunk) {
    std::size_t n = 0;
    for (std::size_t off = 0; off < stream.size(); off += chunk) n += p.feed(ByteView(stream).subspan(off, std::min(chunk, stream.size() - off))).size();
    return n;
}

Bytes msp_stream() {
    Bytes out;
    msp::MotorTelemetry t;
    for (int i = 0; i < 4; ++i) t.motors.push_back({static_cast<std::uint32_t>(9800 + i), 0.1, 31, 16.8, 1.92, 12});
    msp::RawImu imu{{1, -2, 2048}, {3, 4, -5}, {0, 0, 0}};
    for (int i = 0; i < 1000; ++i) {
        auto f = (i % 2) ? msp::encode(msp::make_reply(t)) : msp::encode(msp::make_reply(imu, msp::Version::v2));
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

Bytes mavlink_stream() {
    Bytes out;
    mavlink::Attitude a;
    a.roll = 0.1f;
    a.time_boot_ms = 1234;
    mavlink::EscStatus e;
    e.rpm = {9800, 9810, 9790, 9805};
    e.voltage = {16.8f, 16.8f, 16.8f, 16.8f};
    mavlink::SysStatus s;
    s.voltage_battery_mv = 16800;
    for (int i = 0; i < 1000; ++i) {
        const mavlink::Header h{static_cast<std::uint8_t>(i), 1, 1};
        auto f = (i % 3 == 0) ? mavlink::encode(h, a) : (i % 3 == 1) ? mavlink::encode(h, e) : mavlink::encode(h, s);
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

// The issue-7 stream: ~50 MB of mixed MAVLink 2 frames of the twelve messages a test station
// sees (HEARTBEAT, SYS_STATUS, GPS_RAW_INT, SCALED_IMU, RAW_IMU, ATTITUDE, COMMAND_LONG,
// COMMAND_ACK, BATTERY_STATUS, STATUSTEXT, ESC_INFO, ESC_STATUS), as a serial link carries them.
Bytes mavlink_mixed_stream(std::size_t target) {
    std::vector<Bytes> frames;
    std::uint8_t seq = 0;
    auto add = [&](const auto& m) { frames.push_back(mavlink::encode(mavlink::Header{seq++, 1, 1}, m)); };
    mavlink::Heartbeat hb;
    hb.type = 2;
    hb.autopilot = 3;
    add(hb);
    mavlink::SysStatus st;
    st.voltage_battery_mv = 16800;
    st.sensors_present = 0x1FFFF;
    add(st);
    mavlink::GpsRawInt gps;
    gps.lat = 599000000;
    gps.lon = 107000000;
    gps.satellites_visible = 14;
    add(gps);
    mavlink::ScaledImu si;
    si.zacc = 1000;
    si.xmag = 180;
    add(si);
    mavlink::RawImu ri;
    ri.zacc = 2048;
    ri.time_usec = 123456789;
    add(ri);
    mavlink::Attitude att;
    att.roll = 0.1f;
    att.yaw = 1.2f;
    add(att);
    add(mavlink::motor_test({}, 1, mavlink::MotorTestThrottle::percent, 30, 3));
    mavlink::CommandAck ack;
    ack.command = 209;
    add(ack);
    mavlink::BatteryStatus bs;
    bs.voltages.fill(4200);
    bs.current_battery = 120;
    add(bs);
    mavlink::StatusText tx;
    tx.text = mavlink::to_chars<50>("PreArm: Compass not calibrated");
    add(tx);
    mavlink::EscInfo ei;
    ei.count = 4;
    ei.temperature = {3100, 3200, 3150, 3120};
    add(ei);
    mavlink::EscStatus es;
    es.rpm = {9800, 9810, 9790, 9805};
    es.voltage = {16.8f, 16.8f, 16.8f, 16.8f};
    es.current = {2.1f, 2.0f, 2.2f, 2.1f};
    add(es);
    Bytes out;
    out.reserve(target + 300);
    for (std::size_t i = 0; out.size() < target; ++i) {
        const auto& f = frames[i % frames.size()];
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

Bytes crsf_stream() {
    Bytes out;
    crsf::RcChannels rc;
    rc.ticks.fill(992);
    crsf::LinkStatistics ls{65, 0, 100, 9, 0, 7, 3, 72, 100, 8};
    for (int i = 0; i < 1000; ++i) {
        auto f = (i % 4) ? crsf::encode({crsf::kSync, crsf::type::rc_channels_packed, 0, 0, rc.encode()})
                         : crsf::encode({crsf::kSync, crsf::type::link_statistics, 0, 0, ls.encode()});
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

std::vector<CanFrame> dronecan_frames() {
    std::vector<CanFrame> out;
    dronecan::EscStatus s{0, 16.0f, 2.5f, 300.0f, 12000, 25, 0};
    dronecan::EscRawCommand cmd{{1000, 2000, 3000, 4000}};
    for (int i = 0; i < 250; ++i) {
        auto a = dronecan::encode_transfer({{dronecan::Kind::message, 16, dronecan::EscStatus::id, static_cast<std::uint8_t>(21 + i % 4), 0, 0},
                                            static_cast<std::uint8_t>(i % 32), s.encode()},
                                           dronecan::EscStatus::signature);
        auto b = dronecan::encode_transfer({{dronecan::Kind::message, 8, dronecan::EscRawCommand::id, 100, 0, 0}, static_cast<std::uint8_t>(i % 32), cmd.encode()},
                                           dronecan::EscRawCommand::signature);
        out.insert(out.end(), a.begin(), a.end());
        out.insert(out.end(), b.begin(), b.end());
    }
    return out;
}
}  // namespace

// A stream parser over a prepared byte stream, fed in chunks of state.range(0) bytes.
template <class ParserT>
std::size_t decode_stream(benchmark::State& state, const Bytes& stream) {
    std::size_t frames = 0;
    for (auto _ : state) {
        ParserT p;
        frames = feed_chunks(p, stream, static_cast<std::size_t>(state.range(0)));
        benchmark::DoNotOptimize(frames);
    }
    report_bytes(state, stream.size(), frames);
    return frames;
}

static void BM_MspDecode(benchmark::State& state) {
    const auto stream = msp_stream();
    decode_stream<msp::Parser>(state, stream);
    rate(state, "x_921k", static_cast<double>(stream.size()) / kUart921k);
    rate(state, "x_usbfs", static_cast<double>(stream.size()) / kUsbFullSpeed);
}
BENCHMARK(BM_MspDecode)->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of)->Arg(1)->Arg(64)->Arg(4096);

static void BM_MavlinkDecode(benchmark::State& state) {
    const auto stream = mavlink_stream();
    decode_stream<mavlink::Parser>(state, stream);
    rate(state, "x_921k", static_cast<double>(stream.size()) / kUart921k);
    rate(state, "x_usbfs", static_cast<double>(stream.size()) / kUsbFullSpeed);
}
BENCHMARK(BM_MavlinkDecode)->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of)->Arg(1)->Arg(64)->Arg(4096);

// The allocation-free path (frames as views to a sink), on the 50 MB mixed stream.
static void BM_MavlinkMixed50MB(benchmark::State& state) {
    static const auto stream = mavlink_mixed_stream(50u << 20);
    struct Count final : mavlink::FrameSink {
        std::size_t n = 0;
        std::uint64_t sum = 0;
        void frame(const mavlink::FrameView& f) override {
            ++n;
            sum += f.msgid;
        }
    };
    const auto chunk = static_cast<std::size_t>(state.range(0));
    std::size_t frames = 0;
    for (auto _ : state) {
        mavlink::Parser p;
        Count c;
        for (std::size_t off = 0; off < stream.size(); off += chunk) p.feed(ByteView(stream).subspan(off, std::min(chunk, stream.size() - off)), c);
        benchmark::DoNotOptimize(c.sum);
        frames = c.n;
    }
    report_bytes(state, stream.size(), frames);
}
BENCHMARK(BM_MavlinkMixed50MB)->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of)->Arg(1)->Arg(64)->Arg(4096)->Unit(benchmark::kMillisecond);

static void BM_CrsfDecode(benchmark::State& state) {
    const auto stream = crsf_stream();
    decode_stream<crsf::Parser>(state, stream);
    rate(state, "x_420k", static_cast<double>(stream.size()) / kCrsfUart);
}
BENCHMARK(BM_CrsfDecode)->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of)->Arg(1)->Arg(64);

static void BM_DronecanReassemble(benchmark::State& state) {
    const auto frames = dronecan_frames();
    std::size_t transfers = 0, bytes = 0;
    for (const auto& f : frames) bytes += f.data.size();
    for (auto _ : state) {
        dronecan::Reassembler rx(127, dronecan::known_signature);
        transfers = 0;
        std::uint64_t t = 0;
        for (const auto& f : frames) transfers += rx.feed(f, t += 100).has_value();
        benchmark::DoNotOptimize(transfers);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    rate(state, "frames/s", static_cast<double>(frames.size()));
    rate(state, "transfers/s", static_cast<double>(transfers));
    rate(state, "x_can1M", static_cast<double>(frames.size()) / kCanFramesPerS);
}
BENCHMARK(BM_DronecanReassemble)->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of);

static void BM_SlcanDecode(benchmark::State& state) {
    std::string text;
    for (const auto& f : dronecan_frames()) text += slcan::frame(f);
    const Bytes stream(reinterpret_cast<const std::byte*>(text.data()), reinterpret_cast<const std::byte*>(text.data() + text.size()));
    const auto frames = decode_stream<slcan::Parser>(state, stream);
    rate(state, "x_can1M", static_cast<double>(frames) / kCanFramesPerS);
}
BENCHMARK(BM_SlcanDecode)->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of)->Arg(1)->Arg(64);

// The whole CAN receive path rig runs: SLCAN lines off the adapter's tty -> slcan::Link -> the
// DroneCAN node (reassembly, CRC, esc.Status and NodeStatus bookkeeping), fed in chunks of
// state.range(0) bytes. x_can1M: how many saturated 1 Mbit/s buses one core keeps up with.
static void BM_SlcanToDronecanNode(benchmark::State& state) {
    std::string text;
    const auto frames = dronecan_frames();
    for (const auto& f : frames) text += slcan::frame(f);
    const Bytes stream(reinterpret_cast<const std::byte*>(text.data()), reinterpret_cast<const std::byte*>(text.data() + text.size()));
    const auto chunk = static_cast<std::size_t>(state.range(0));
    const Bytes cr{std::byte{'\r'}};
    const session::Time t0{};
    for (auto _ : state) {
        dronecan::Node node(7);
        slcan::Link link(node, 1'000'000);
        for (int i = 0; i < 3; ++i) {  // C, S8, O, each answered
            benchmark::DoNotOptimize(link.transmit(t0));
            link.receive(cr, t0);
        }
        for (std::size_t off = 0; off < stream.size(); off += chunk)
            link.receive(ByteView(stream).subspan(off, std::min(chunk, stream.size() - off)), t0 + std::chrono::microseconds(off));
        if (!node.esc(0)) state.SkipWithError("no esc.Status decoded");
        benchmark::DoNotOptimize(node.nodes().size());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
    rate(state, "frames/s", static_cast<double>(frames.size()));
    rate(state, "x_can1M", static_cast<double>(frames.size()) / kCanFramesPerS);
}
BENCHMARK(BM_SlcanToDronecanNode)->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of)->Arg(1)->Arg(64)->Arg(4096);

static void BM_JigDecode(benchmark::State& state) {
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
    report_bytes(state, stream.size(), frames);
    rate(state, "x_115k", static_cast<double>(stream.size()) / 11520.0);
}
BENCHMARK(BM_JigDecode)->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of);

BENCHMARK_MAIN();
