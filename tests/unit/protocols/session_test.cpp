// The sans-IO sessions, driven by hand: bytes in, bytes out, time as values. No Asio, no clock.
#include <cstring>
#include <doctest/doctest.h>

#include "hex.hpp"
#include "protocols/crsf/handset.hpp"
#include "protocols/jig/client.hpp"
#include "protocols/mavlink/client.hpp"
#include "protocols/msp/client.hpp"
#include "protocols/msp/messages.hpp"

using namespace rig;
using namespace std::chrono_literals;
using session::Time;

namespace {
const Time t0{std::chrono::seconds(1000)};

template <class S>
std::vector<Bytes> drain(S& s, Time now) {
    std::vector<Bytes> out;
    while (auto b = s.transmit(now)) out.push_back(std::move(*b));
    return out;
}
}  // namespace

TEST_CASE("msp client: one request in flight, matched by command; a stale reply is dropped; retried, then a timeout naming the command") {
    msp::Client c;
    const auto a = c.request(msp::cmd::api_version, {}, {250ms, 2});
    const auto b = c.request(msp::cmd::fc_variant, {}, {250ms, 1});
    auto out = drain(c, t0);
    REQUIRE(out.size() == 1);  // the second waits for the first
    CHECK(to_hex(out[0]) == "24 4D 3C 00 01 01");
    CHECK(*c.deadline() == t0 + 250ms);
    // A reply to another command (a late one from an earlier timeout) is not the answer.
    c.receive(msp::encode(msp::make_reply(msp::FcVariant{"BTFL"})), t0 + 10ms);
    CHECK(c.stale_replies() == 1);
    CHECK_FALSE(c.completed());
    // No answer: sent again at the deadline, with a note for the log.
    c.tick(t0 + 250ms);
    out = drain(c, t0 + 250ms);
    REQUIRE(out.size() == 1);
    CHECK(*c.note() == "event=msp_retry command=\"MSP_API_VERSION (1)\" attempt=2");
    c.tick(t0 + 500ms);
    auto done = c.completed();
    REQUIRE(done);
    CHECK(done->id == a);
    REQUIRE_FALSE(done->reply);
    CHECK(done->reply.error().code == Errc::timeout);
    CHECK(done->reply.error().message == "flight controller did not answer MSP_API_VERSION (1) within 250 ms (2 attempts)");
    // The next request goes out; its error reply is an error naming the command.
    out = drain(c, t0 + 500ms);
    REQUIRE(out.size() == 1);
    msp::Frame err{msp::Direction::error, msp::cmd::fc_variant, {}, msp::Version::v1, 0};
    c.receive(msp::encode(err), t0 + 510ms);
    done = c.completed();
    REQUIRE(done);
    CHECK(done->id == b);
    CHECK(done->reply.error().message == "flight controller refused MSP_FC_VARIANT (2)");
    CHECK_FALSE(c.deadline());
}

TEST_CASE("msp client: a reply split across reads completes once; a lost link fails every pending request") {
    msp::Client c;
    const auto a = c.request(msp::cmd::api_version, {}, {250ms, 3});
    c.request(msp::cmd::uid, {}, {250ms, 3});
    drain(c, t0);
    const auto reply = msp::encode(msp::make_reply(msp::ApiVersion{0, 1, 47}));
    c.receive(ByteView(reply).first(3), t0 + 1ms);
    CHECK_FALSE(c.completed());
    c.receive(ByteView(reply).subspan(3), t0 + 2ms);
    auto done = c.completed();
    REQUIRE(done);
    CHECK(done->id == a);
    CHECK(to_hex(*done->reply) == "00 01 2F");
    c.link_lost(make_error(Errc::io_error, "serial:/dev/x: read failed: Input/output error"));
    done = c.completed();
    REQUIRE(done);
    CHECK(done->reply.error().message == "serial:/dev/x: read failed: Input/output error");
}

TEST_CASE("msp client: commands 255 and up go out as MSP v2 (255 is v1's v2-in-v1 marker; found by sessions_fuzz)") {
    msp::Client c;
    c.request(255, {}, {250ms, 1});
    auto out = drain(c, t0);
    REQUIRE(out.size() == 1);
    CHECK(to_hex(out[0]).substr(0, 8) == "24 58 3C");
}

TEST_CASE("jig client: sequence numbers match replies; heartbeats are due after a quiet period and flagged internal") {
    jig::Client c;
    c.keepalive(100ms);
    // Nothing sent yet: a heartbeat is due at once.
    CHECK(*c.deadline() <= t0);
    c.tick(t0);
    auto out = drain(c, t0);
    REQUIRE(out.size() == 1);
    jig::Parser p;
    auto frames = p.feed(out[0]);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].command == jig::Command::heartbeat);
    const auto seq = frames[0].seq;
    // A reply with another sequence number (the backup heartbeat thread's) is stale.
    c.receive(jig::encode({jig::Kind::response, static_cast<std::uint8_t>(seq + 0x80), jig::Command::heartbeat, {std::byte{3}}}), t0 + 5ms);
    CHECK(c.stale_replies() == 1);
    c.receive(jig::encode({jig::Kind::response, seq, jig::Command::heartbeat, {std::byte{3}}}), t0 + 6ms);
    auto done = c.completed();
    REQUIRE(done);
    CHECK(c.is_heartbeat(done->id));
    // The next one is due 100 ms after the last send, not before.
    CHECK(*c.deadline() == t0 + 100ms);
    // A request in between resets the quiet period.
    const auto r = c.request(jig::Command::read_dut_supply, {}, {300ms, 1});
    out = drain(c, t0 + 50ms);
    REQUIRE(out.size() == 1);
    c.tick(t0 + 350ms);
    done = c.completed();
    REQUIRE(done);
    CHECK(done->id == r);
    CHECK_FALSE(c.is_heartbeat(r));
    CHECK(done->reply.error().message == "jig did not answer READ_DUT_SUPPLY within 300 ms");
    c.keepalive(std::nullopt);
    CHECK_FALSE(c.deadline());
}

TEST_CASE("jig client: an overdue request is re-sent under a new sequence number; the late reply to the first is stale; then a timeout counting attempts") {
    jig::Client c;
    const auto r = c.request(jig::Command::read_dut_supply, {}, {300ms, 2});
    jig::Parser p;
    auto out = drain(c, t0);
    REQUIRE(out.size() == 1);
    const auto first = p.feed(out[0]).at(0).seq;
    CHECK_FALSE(c.note());
    c.tick(t0 + 299ms);
    CHECK(drain(c, t0 + 299ms).empty());
    c.tick(t0 + 300ms);
    out = drain(c, t0 + 300ms);
    REQUIRE(out.size() == 1);
    const auto again = p.feed(out[0]).at(0);
    CHECK(again.command == jig::Command::read_dut_supply);
    CHECK(again.seq == static_cast<std::uint8_t>(first + 1));
    CHECK(*c.note() == "event=jig_retry command=READ_DUT_SUPPLY attempt=2");
    CHECK_FALSE(c.note());
    CHECK(c.retries() == 1);
    CHECK(*c.deadline() == t0 + 600ms);
    // The first attempt's answer, late: not taken for the second's.
    const auto supply = jig::encode_supply({12.0, 0.5});
    c.receive(jig::encode({jig::Kind::response, first, jig::Command::read_dut_supply, supply}), t0 + 310ms);
    CHECK(c.stale_replies() == 1);
    CHECK_FALSE(c.completed());
    c.receive(jig::encode({jig::Kind::response, again.seq, jig::Command::read_dut_supply, supply}), t0 + 320ms);
    auto done = c.completed();
    REQUIRE(done);
    CHECK(done->id == r);
    REQUIRE(done->reply);
    CHECK(*done->reply == supply);
    // Both attempts unanswered: the timeout says how many were made.
    c.request(jig::Command::identify, {}, {300ms, 2});
    drain(c, t0 + 400ms);
    c.tick(t0 + 700ms);
    drain(c, t0 + 700ms);
    c.tick(t0 + 1000ms);
    done = c.completed();
    REQUIRE(done);
    CHECK(done->reply.error().message == "jig did not answer IDENTIFY within 300 ms (2 attempts)");
    CHECK(c.retries() == 2);
}

TEST_CASE("jig client: an error reply carries the jig's message and code") {
    jig::Client c;
    c.request(jig::Command::set_dut_power, {std::byte{1}}, {300ms, 1});
    auto out = drain(c, t0);
    jig::Parser p;
    const auto seq = p.feed(out.at(0)).at(0).seq;
    c.receive(jig::encode({jig::Kind::error, seq, jig::Command::set_dut_power, jig::encode_error({jig::ErrorCode::interlock_open, "lid open"})}), t0);
    CHECK(c.completed()->reply.error().message == "jig refused SET_DUT_POWER: lid open (code 3)");
}

TEST_CASE("jig client: STATUS_CHANGED events complete status waits, beside a request in flight; timeout, shutdown, lost link") {
    jig::Client c;
    const auto w = c.status_event(1000ms, t0);
    CHECK(*c.deadline() == t0 + 1000ms);
    const auto r = c.request(jig::Command::read_dut_supply, {}, {300ms, 1});
    drain(c, t0);
    // An event is not a reply: the request stays in flight, the wait completes with the status.
    c.receive(jig::encode({jig::Kind::event, 9, jig::Command::read_lid, {std::byte{0x06}}}), t0 + 5ms);
    auto done = c.completed();
    REQUIRE(done);
    CHECK(done->id == w);
    CHECK(*done->reply == Bytes{std::byte{0x06}});
    CHECK_FALSE(c.completed());
    CHECK(c.stale_replies() == 0);
    // A malformed event (wrong command or length) is counted and ignored.
    const auto w2 = c.status_event(1000ms, t0 + 10ms);
    c.receive(jig::encode({jig::Kind::event, 10, jig::Command::read_barcode, {std::byte{1}}}), t0 + 11ms);
    c.receive(jig::encode({jig::Kind::event, 11, jig::Command::read_lid, {}}), t0 + 12ms);
    CHECK(c.stale_replies() == 2);
    CHECK_FALSE(c.completed());
    c.tick(t0 + 1010ms);
    done = c.completed();  // the request's timeout and the wait's, in either order
    REQUIRE(done);
    auto second = c.completed();
    REQUIRE(second);
    auto& ev = done->id == w2 ? *done : *second;
    CHECK(ev.reply.error().message == "no STATUS_CHANGED event from the jig");
    CHECK((done->id == r || second->id == r));
    // Shutdown ends a wait at once; a lost link ends it with the link's error; a cancelled wait
    // never completes.
    const auto w3 = c.status_event(1000ms, t0 + 2000ms);
    c.fail_event_waits(make_error(Errc::cancelled, "SIGTERM"));
    done = c.completed();
    CHECK(done->id == w3);
    CHECK(done->reply.error().message == "SIGTERM");
    const auto w4 = c.status_event(1000ms, t0 + 2000ms);
    c.link_lost(make_error(Errc::io_error, "serial:/dev/jig: hang-up"));
    CHECK(c.completed()->id == w4);
    const auto w5 = c.status_event(1000ms, t0 + 2000ms);
    c.cancel(w5);
    c.receive(jig::encode({jig::Kind::event, 12, jig::Command::read_lid, {std::byte{0x02}}}), t0 + 2001ms);
    CHECK_FALSE(c.completed());
    CHECK_FALSE(c.deadline());
}

namespace {
Bytes from_autopilot(std::uint8_t seq, const auto& m) { return mavlink::encode(mavlink::Header{seq, 1, 1}, m); }

mavlink::Heartbeat ardupilot_heartbeat() {
    mavlink::Heartbeat hb;
    hb.type = 2;
    hb.autopilot = mavlink::kAutopilotArdupilot;
    return hb;
}

std::vector<mavlink::Frame> frames_of(const std::vector<Bytes>& out) {
    mavlink::Parser p;
    std::vector<mavlink::Frame> all;
    for (const auto& b : out)
        for (auto& f : p.feed(b)) all.push_back(std::move(f));
    return all;
}
}  // namespace

TEST_CASE("mavlink client: GCS heartbeat at 1 Hz; commands wait for an autopilot, then ACK, retry with confirmation, DENIED with its STATUSTEXT") {
    mavlink::Client c;
    auto out = frames_of(drain(c, t0));
    REQUIRE(out.size() == 1);
    CHECK(out[0].msgid == mavlink::Heartbeat::info.id);
    CHECK(out[0].sysid == 255);
    CHECK(mavlink::decode<mavlink::Heartbeat>(out[0])->type == mavlink::kTypeGcs);
    CHECK(frames_of(drain(c, t0 + 500ms)).empty());
    CHECK(frames_of(drain(c, t0 + 1000ms)).size() == 1);

    const auto test = mavlink::motor_test({}, 2, mavlink::MotorTestThrottle::percent, 30, 3);
    const auto id = c.command(test, {300ms, 2}, t0);
    CHECK(frames_of(drain(c, t0 + 1ms)).empty());  // no autopilot yet: nothing to address
    c.receive(from_autopilot(0, ardupilot_heartbeat()), t0 + 2ms);
    CHECK(c.autopilot_known());
    out = frames_of(drain(c, t0 + 3ms));
    REQUIRE(out.size() == 1);
    auto sent = mavlink::decode<mavlink::CommandLong>(out[0]);
    CHECK(sent->command == mavlink::cmd::do_motor_test);
    CHECK(sent->target_system == 1);
    CHECK(sent->confirmation == 0);
    c.tick(t0 + 303ms);
    out = frames_of(drain(c, t0 + 303ms));
    REQUIRE(out.size() == 1);
    CHECK(mavlink::decode<mavlink::CommandLong>(out[0])->confirmation == 1);
    mavlink::StatusText text;
    text.severity = 3;
    text.text = mavlink::to_chars<50>("PreArm: Motor Interlock Enabled");
    c.receive(from_autopilot(1, text), t0 + 310ms);
    mavlink::CommandAck ack;
    ack.command = mavlink::cmd::do_motor_test;
    ack.result = static_cast<std::uint8_t>(mavlink::MavResult::in_progress);
    c.receive(from_autopilot(2, ack), t0 + 311ms);
    CHECK_FALSE(c.completed());  // still working: the wait goes on
    ack.result = static_cast<std::uint8_t>(mavlink::MavResult::denied);
    c.receive(from_autopilot(3, ack), t0 + 400ms);
    auto done = c.completed();
    REQUIRE(done);
    CHECK(done->id == id);
    CHECK(done->reply.error().message == "autopilot refused MAV_CMD_DO_MOTOR_TEST (209): DENIED (autopilot: \"PreArm: Motor Interlock Enabled\")");
}

TEST_CASE("mavlink client: a command never acknowledged times out; no autopilot at all is said so; heartbeat lost after 3 s fails waits") {
    mavlink::Client c;
    const auto lonely = c.command(mavlink::request_message({}, 148), {100ms, 2}, t0);
    c.tick(t0 + 200ms);
    CHECK(c.completed()->reply.error().message == "no HEARTBEAT from an autopilot: MAV_CMD_REQUEST_MESSAGE (512) not sent");
    (void)lonely;
    c.receive(from_autopilot(0, ardupilot_heartbeat()), t0 + 300ms);
    c.command(mavlink::request_message({}, 148), {100ms, 2}, t0 + 300ms);
    drain(c, t0 + 300ms);
    c.tick(t0 + 400ms);
    drain(c, t0 + 400ms);
    c.tick(t0 + 500ms);
    CHECK(c.completed()->reply.error().message == "autopilot did not acknowledge MAV_CMD_REQUEST_MESSAGE (512) within 100 ms (2 attempts)");
    const auto wait = c.message(mavlink::ScaledImu::info.id, t0 + 500ms, 10s, t0 + 500ms);
    c.tick(t0 + 3300ms);
    auto done = c.completed();
    REQUIRE(done);
    CHECK(done->id == wait);
    CHECK(done->reply.error().message == "no HEARTBEAT from the autopilot for 3 s");
    CHECK(*c.note() == "event=mavlink_retry command=\"MAV_CMD_REQUEST_MESSAGE (512)\" attempt=2");
    CHECK(*c.note() == "event=autopilot_heartbeat_lost");
}

TEST_CASE("mavlink client: a message wait takes a cached message only if it is new enough; others' frames are ignored") {
    mavlink::Client c;
    c.receive(from_autopilot(0, ardupilot_heartbeat()), t0);
    mavlink::ScaledPressure p;
    p.press_abs = 1013.25f;
    c.receive(from_autopilot(1, p), t0 + 10ms);
    const auto fresh = c.message(mavlink::ScaledPressure::info.id, t0, 100ms, t0 + 20ms);
    CHECK(c.completed()->id == fresh);
    const auto next = c.message(mavlink::ScaledPressure::info.id, t0 + 20ms, 100ms, t0 + 20ms);
    CHECK_FALSE(c.completed());
    c.receive(mavlink::encode(mavlink::Header{0, 7, 1}, p), t0 + 30ms);  // another system
    CHECK_FALSE(c.completed());
    c.receive(from_autopilot(2, p), t0 + 40ms);
    auto done = c.completed();
    REQUIRE(done);
    CHECK(done->id == next);
    mavlink::Frame f;
    f.msgid = mavlink::ScaledPressure::info.id;
    f.payload = *done->reply;
    CHECK(mavlink::decode<mavlink::ScaledPressure>(f)->press_abs == doctest::Approx(1013.25));
    c.message(mavlink::RawImu::info.id, t0 + 40ms, 100ms, t0 + 40ms);
    c.tick(t0 + 140ms);
    CHECK(c.completed()->reply.error().message == "no RAW_IMU from the autopilot within 100 ms");
}

TEST_CASE("mavlink client: parameters: list, a lost index re-requested by PARAM_REQUEST_READ, canonical sorted dump; never complete is an error") {
    for (const bool never : {false, true}) {
        mavlink::Client c;
        c.receive(from_autopilot(0, ardupilot_heartbeat()), t0);
        const auto id = c.params({200ms, 2}, t0);
        auto out = frames_of(drain(c, t0));
        REQUIRE(out.size() == 2);  // GCS heartbeat, then the list request
        CHECK(out[1].msgid == mavlink::ParamRequestList::info.id);
        auto value = [&](std::uint16_t i, const char* name, float v, std::uint8_t type) {
            mavlink::ParamValue pv;
            pv.param_count = 3;
            pv.param_index = i;
            pv.param_id = mavlink::to_chars<16>(name);
            pv.param_value = v;
            pv.param_type = type;
            return from_autopilot(static_cast<std::uint8_t>(i), pv);
        };
        c.receive(value(0, "RC_FS_TIMEOUT", 1.0f, 9), t0 + 10ms);
        c.receive(value(2, "FRAME_CLASS", 1, 2), t0 + 20ms);  // index 1 was lost
        c.tick(t0 + 220ms);
        out = frames_of(drain(c, t0 + 220ms));
        REQUIRE(out.size() == 1);
        auto read = mavlink::decode<mavlink::ParamRequestRead>(out[0]);
        CHECK(read->param_index == 1);
        CHECK(*c.note() == "event=param_rerequest missing=1");
        if (never) {
            c.tick(t0 + 420ms);
            drain(c, t0 + 420ms);
            c.tick(t0 + 620ms);
            auto done = c.completed();
            REQUIRE(done);
            CHECK(done->reply.error().message == "parameter list incomplete: 2 of 3 received after 2 re-requests (missing index 1)");
            continue;
        }
        c.receive(value(1, "ATC_RAT_RLL_P", 0.135f, 9), t0 + 230ms);
        auto done = c.completed();
        REQUIRE(done);
        CHECK(done->id == id);
        CHECK(std::string(reinterpret_cast<const char*>(done->reply->data()), done->reply->size()) ==
              "ATC_RAT_RLL_P=0.135000005\nFRAME_CLASS=1\nRC_FS_TIMEOUT=1\n");
    }
}

TEST_CASE("mavlink client: integer parameters C-cast or bytewise, as AUTOPILOT_VERSION's capabilities say, else by autopilot family") {
    auto dump = [](std::uint8_t autopilot, std::optional<std::uint64_t> capabilities) {
        mavlink::Client c;
        auto hb = ardupilot_heartbeat();
        hb.autopilot = autopilot;
        c.receive(from_autopilot(0, hb), t0);
        if (capabilities) {
            mavlink::AutopilotVersion v;
            v.capabilities = *capabilities;
            c.receive(from_autopilot(1, v), t0);
        }
        c.params({200ms, 2}, t0);
        drain(c, t0);
        mavlink::ParamValue pv;
        pv.param_count = 1;
        pv.param_id = mavlink::to_chars<16>("SYS_AUTOSTART");
        pv.param_type = 6;  // INT32
        if (autopilot == mavlink::kAutopilotPx4 && capabilities != mavlink::kCapabilityParamEncodeCCast) {
            const std::int32_t i = 4001;
            std::memcpy(&pv.param_value, &i, 4);  // the integer's bytes in the float field
        } else {
            pv.param_value = 4001.0f;
        }
        c.receive(from_autopilot(2, pv), t0 + 10ms);
        auto done = c.completed();
        REQUIRE(done);
        REQUIRE(done->reply);
        return std::string(reinterpret_cast<const char*>(done->reply->data()), done->reply->size());
    };
    CHECK(dump(mavlink::kAutopilotArdupilot, std::nullopt) == "SYS_AUTOSTART=4001\n");
    CHECK(dump(mavlink::kAutopilotPx4, std::nullopt) == "SYS_AUTOSTART=4001\n");
    CHECK(dump(mavlink::kAutopilotPx4, mavlink::kCapabilityParamEncodeBytewise) == "SYS_AUTOSTART=4001\n");
    CHECK(dump(mavlink::kAutopilotPx4, mavlink::kCapabilityParamEncodeCCast) == "SYS_AUTOSTART=4001\n");
    // Misread, the bits of 4001 as a float would be a denormal, and 4001.0f's bits 1165623296.
    mavlink::Client c;
    c.receive(from_autopilot(0, ardupilot_heartbeat()), t0);
    mavlink::AutopilotVersion v;
    v.capabilities = mavlink::kCapabilityParamEncodeBytewise;
    c.receive(from_autopilot(1, v), t0);
    CHECK(c.params_bytewise());
    CHECK(c.latest(mavlink::AutopilotVersion::info.id, t0));
    CHECK_FALSE(c.latest(mavlink::AutopilotVersion::info.id, t0 + 1ms));
    CHECK_FALSE(c.latest(mavlink::Heartbeat::info.id + 1000, t0));
}

TEST_CASE("mavlink client: a kept command is re-sent every period until cleared") {
    mavlink::Client c;
    c.receive(from_autopilot(0, ardupilot_heartbeat()), t0);
    drain(c, t0);
    c.keep_command(mavlink::motor_test({}, 1, mavlink::MotorTestThrottle::percent, 30, 3), 1000ms);
    CHECK(frames_of(drain(c, t0 + 1ms)).size() == 1);
    CHECK(frames_of(drain(c, t0 + 500ms)).empty());
    CHECK(*c.deadline() <= t0 + 1001ms);
    auto again = frames_of(drain(c, t0 + 1001ms));
    REQUIRE(again.size() == 2);  // the GCS heartbeat and the kept command
    CHECK(again[1].msgid == mavlink::CommandLong::info.id);
    c.keep_command(std::nullopt);
    CHECK(frames_of(drain(c, t0 + 2500ms)).size() == 1);  // heartbeat only
}

TEST_CASE("crsf handset: RC frames at the period while streaming, none after stop; link statistics kept; ping answered by DEVICE_INFO") {
    crsf::Handset h;
    std::array<std::uint16_t, 16> ticks;
    ticks.fill(992);
    h.channels(ticks, 10ms);
    int frames = 0;
    for (int ms = 0; ms < 1000; ++ms) frames += static_cast<int>(drain(h, t0 + std::chrono::milliseconds(ms)).size());
    CHECK(frames == 100);  // 100 Hz
    h.channels(std::nullopt);
    CHECK(drain(h, t0 + 2s).empty());
    CHECK_FALSE(h.deadline());

    const auto ping = h.ping(crsf::addr::receiver, {100ms, 2}, t0);
    auto out = drain(h, t0);
    REQUIRE(out.size() == 1);
    CHECK(to_hex(out[0]).substr(0, 14) == "EE 04 28 EC EA");
    crsf::DeviceInfo info;
    info.name = "RP3";
    info.firmware_id = 0x00030502;
    crsf::Frame reply;
    reply.type = crsf::type::device_info;
    reply.dest = crsf::addr::handset;
    reply.origin = crsf::addr::receiver;
    reply.payload = info.encode();
    h.receive(crsf::encode(reply), t0 + 20ms);
    auto done = h.completed();
    REQUIRE(done);
    CHECK(done->id == ping);
    CHECK(crsf::DeviceInfo::decode(*done->reply)->name == "RP3");

    const auto stats = h.link_statistics(t0 + 30ms, 100ms, t0 + 30ms);
    crsf::Frame ls;
    ls.type = crsf::type::link_statistics;
    ls.payload = crsf::LinkStatistics{}.encode();
    h.receive(crsf::encode(ls), t0 + 40ms);
    CHECK(h.completed()->id == stats);
    h.ping(crsf::addr::receiver, {100ms, 2}, t0 + 50ms);
    drain(h, t0 + 50ms);
    h.tick(t0 + 150ms);
    drain(h, t0 + 150ms);
    h.tick(t0 + 250ms);
    CHECK(h.completed()->reply.error().message == "no DEVICE_INFO from device 0xEC through the link within 100 ms (2 pings)");
}
