// rig's DroneCAN node driven sans-IO (frames in, frames out, time as values), alone and behind an
// SLCAN adapter link (bytes in, bytes out).
#include <doctest/doctest.h>

#include "protocols/dronecan/node.hpp"
#include "protocols/slcan/link.hpp"

using namespace rig;
using namespace rig::dronecan;
using namespace std::chrono_literals;

namespace {
const session::Time t0 = session::Time{} + 1000s;

std::vector<CanFrame> from(std::uint8_t source, Kind kind, std::uint16_t type, std::uint8_t dest, std::uint8_t tid, Bytes payload,
                           std::uint64_t signature) {
    Transfer t;
    t.id.kind = kind;
    t.id.data_type_id = type;
    t.id.source = source;
    t.id.destination = dest;
    t.transfer_id = tid;
    t.payload = std::move(payload);
    return encode_transfer(t, signature);
}

// What a remote node (id 20) makes of everything the node sends until now.
struct Remote {
    Reassembler rx{20, known_signature};
    std::vector<Transfer> got;
    void drain(Node& n, session::Time now) {
        while (auto f = n.transmit(now))
            if (auto t = rx.feed(*f, 1)) got.push_back(*t);
    }
};

void feed(Node& n, const std::vector<CanFrame>& frames, session::Time now) {
    for (const auto& f : frames) n.receive(f, now);
}

NodeStatus status(std::uint32_t uptime, NodeStatus::Health h = NodeStatus::Health::ok) {
    NodeStatus s;
    s.uptime_s = uptime;
    s.health = h;
    return s;
}
}  // namespace

TEST_CASE("dronecan node: its NodeStatus at once and then every second, with its uptime; ids 1..125 only") {
    CHECK_THROWS_WITH(Node(0), "DroneCAN node id 0 outside 1..125");
    CHECK_THROWS_WITH(Node(126), "DroneCAN node id 126 outside 1..125");
    Node n(100);
    CHECK(*n.deadline() == session::Time{});
    Remote r;
    n.tick(t0);
    r.drain(n, t0);
    REQUIRE(r.got.size() == 1);
    CHECK(r.got[0].id.source == 100);
    CHECK(r.got[0].id.data_type_id == NodeStatus::id);
    CHECK(r.got[0].id.priority == priority::low);
    CHECK(*n.deadline() == t0 + 1s);
    n.tick(t0 + 2500ms);  // a stalled caller gets one, not a burst
    r.drain(n, t0 + 2500ms);
    REQUIRE(r.got.size() == 2);
    CHECK(NodeStatus::decode(r.got[1].payload)->uptime_s == 2);
    CHECK(r.got[1].transfer_id == 1);  // transfer ids count per data type
}

TEST_CASE("dronecan node: monitor: online on the first NodeStatus, offline after 3 s of silence, restart noticed") {
    Node n(100);
    n.tick(t0);
    feed(n, from(21, Kind::message, NodeStatus::id, 0, 0, status(40, NodeStatus::Health::warning).encode(), NodeStatus::signature), t0 + 10ms);
    REQUIRE(n.nodes().count(21));
    CHECK(n.nodes().at(21).online);
    CHECK(n.nodes().at(21).status.health == NodeStatus::Health::warning);
    CHECK(*n.note() == "event=node_online node=21 health=1 mode=0");
    feed(n, from(21, Kind::message, NodeStatus::id, 0, 1, status(3).encode(), NodeStatus::signature), t0 + 1010ms);
    CHECK(*n.note() == "event=node_restarted node=21 uptime_s=3");
    CHECK(*n.deadline() <= t0 + 1010ms + 3s);
    n.tick(t0 + 4009ms);
    CHECK(n.nodes().at(21).online);
    n.tick(t0 + 4010ms);
    CHECK_FALSE(n.nodes().at(21).online);
    CHECK(*n.note() == "event=node_offline node=21 silent_ms=3000");
}

TEST_CASE("dronecan node: GetNodeInfo: matched by node and transfer id, retried with the same id, timeout named") {
    Node n(100);
    Remote r;
    const auto id = n.get_node_info(20, {200ms, 2}, t0);
    r.drain(n, t0);
    REQUIRE(r.got.size() == 2);  // NodeStatus, then the request
    const auto req = r.got[1];
    CHECK(req.id.kind == Kind::request);
    CHECK(req.id.destination == 20);
    CHECK(req.payload.empty());
    // A response from another node, or with another transfer id, is not the answer.
    GetNodeInfo::Response info;
    info.sw_major = 1;
    info.sw_minor = 3;
    info.name = "com.example.esc";
    info.unique_id[0] = 0xAB;
    feed(n, from(22, Kind::response, GetNodeInfo::id, 100, req.transfer_id, info.encode(), GetNodeInfo::signature), t0 + 5ms);
    feed(n, from(20, Kind::response, GetNodeInfo::id, 100, static_cast<std::uint8_t>(req.transfer_id + 1), info.encode(), GetNodeInfo::signature),
         t0 + 6ms);
    CHECK_FALSE(n.completed());
    n.tick(t0 + 200ms);  // first attempt lapsed: sent again, same transfer id
    r.drain(n, t0 + 200ms);
    REQUIRE(r.got.size() == 3);
    CHECK(r.got[2].transfer_id == req.transfer_id);
    feed(n, from(20, Kind::response, GetNodeInfo::id, 100, req.transfer_id, info.encode(), GetNodeInfo::signature), t0 + 250ms);
    auto done = n.completed();
    REQUIRE(done);
    CHECK(done->id == id);
    auto decoded = GetNodeInfo::Response::decode(*done->reply);
    REQUIRE(decoded);
    CHECK(decoded->name == "com.example.esc");
    CHECK(decoded->unique_id[0] == 0xAB);
    // Never answered.
    const auto id2 = n.get_node_info(33, {100ms, 2}, t0 + 300ms);
    r.drain(n, t0 + 300ms);
    n.tick(t0 + 400ms);
    r.drain(n, t0 + 400ms);
    n.tick(t0 + 500ms);
    done = n.completed();
    REQUIRE(done);
    CHECK(done->id == id2);
    CHECK(done->reply.error().message == "node 33 did not answer GetNodeInfo within 100 ms (2 attempts)");
}

TEST_CASE("dronecan node: esc.RawCommand streamed at its period (at least 50 Hz); stop sends zeros ahead of everything") {
    Node n(100);
    Remote r;
    n.tick(t0);
    r.drain(n, t0);
    r.got.clear();
    n.stream_esc({0, 2000, 0, 0}, 100ms, t0);  // asked 100 ms: held to 20 ms
    CHECK(n.esc_streaming());
    for (int i = 0; i <= 5; ++i) {
        const auto t = t0 + i * 20ms;
        n.tick(t);
        r.drain(n, t);
    }
    REQUIRE(r.got.size() == 6);
    for (std::size_t i = 0; i < r.got.size(); ++i) {
        CHECK(r.got[i].id.data_type_id == EscRawCommand::id);
        CHECK(r.got[i].id.priority == priority::high);
        CHECK(r.got[i].transfer_id == i);
    }
    CHECK(EscRawCommand::decode(r.got[0].payload)->cmd == std::vector<std::int16_t>{0, 2000, 0, 0});
    n.tick(t0 + 1000ms);     // a NodeStatus and a command are queued...
    n.stop_esc(t0 + 1000ms);  // ...the stop goes first
    CHECK_FALSE(n.esc_streaming());
    auto f = n.transmit(t0 + 1000ms);
    REQUIRE(f);
    Reassembler rx(20, known_signature);
    auto stop = rx.feed(*f, 1);
    REQUIRE(stop);
    CHECK(EscRawCommand::decode(stop->payload)->cmd == std::vector<std::int16_t>{0, 0, 0, 0});
    r.got.clear();
    r.drain(n, t0 + 1000ms);
    n.tick(t0 + 2000ms);
    r.drain(n, t0 + 2000ms);
    for (const auto& t : r.got)
        if (t.id.data_type_id == EscRawCommand::id) CHECK(EscRawCommand::decode(t.payload)->cmd != std::vector<std::int16_t>{0, 2000, 0, 0});
}

TEST_CASE("dronecan node: esc.Status kept per ESC index; a clash on our node id fails every request; GetNodeInfo answered") {
    Node n(100);
    EscStatus s;
    s.esc_index = 2;
    s.rpm = 9000;
    s.voltage_v = 16.5f;
    s.temperature_k = 310.0f;
    s.error_count = 4;
    feed(n, from(42, Kind::message, EscStatus::id, 0, 0, s.encode(), EscStatus::signature), t0);
    REQUIRE(n.esc(2));
    CHECK(n.esc(2)->status.rpm == 9000);
    CHECK(n.esc(2)->node == 42);
    CHECK_FALSE(n.esc(1));
    // Someone asks who we are.
    Remote r;
    n.tick(t0);
    feed(n, from(20, Kind::request, GetNodeInfo::id, 100, 7, {}, GetNodeInfo::signature), t0);
    r.drain(n, t0);
    bool answered = false;
    for (const auto& t : r.got)
        if (t.id.kind == Kind::response) {
            answered = true;
            CHECK(t.transfer_id == 7);
            CHECK(GetNodeInfo::Response::decode(t.payload)->name == "org.rig.rigd");
        }
    CHECK(answered);
    const auto id = n.get_node_info(42, {100ms, 1}, t0);
    feed(n, from(100, Kind::message, NodeStatus::id, 0, 0, status(5).encode(), NodeStatus::signature), t0 + 1ms);
    REQUIRE(n.clash());
    CHECK(*n.clash() == "node id clash: another node on the bus sends as node 100 (rig's own id)");
    auto done = n.completed();
    REQUIRE(done);
    CHECK(done->id == id);
    CHECK(done->reply.error().message == *n.clash());
    CHECK(n.completed() == std::nullopt);
    CHECK(n.get_node_info(42, {100ms, 1}, t0 + 2ms) != 0);
    CHECK_FALSE(n.completed()->reply);
}

TEST_CASE("dronecan node: a lost link fails pending requests and ends the ESC stream") {
    Node n(100);
    const auto id = n.get_node_info(20, {100ms, 1}, t0);
    n.stream_esc({100}, 10ms, t0);
    n.link_lost(make_error(Errc::io_error, "slcan:/dev/ttyACM1: hang-up"));
    auto done = n.completed();
    REQUIRE(done);
    CHECK(done->id == id);
    CHECK(done->reply.error().message == "slcan:/dev/ttyACM1: hang-up");
    CHECK_FALSE(n.esc_streaming());
}

// ---- the node behind an SLCAN adapter ----

namespace {
std::string text(const std::optional<Bytes>& b) { return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : "(none)"; }
Bytes bytes(std::string_view s) { return Bytes(reinterpret_cast<const std::byte*>(s.data()), reinterpret_cast<const std::byte*>(s.data() + s.size())); }
}  // namespace

TEST_CASE("slcan link: C, S8, O before any frame; then the node's frames as T lines and the bus's lines to the node") {
    Node n(100);
    slcan::Link link(n, 1'000'000);
    CHECK(*link.deadline() == session::Time{});
    CHECK(text(link.transmit(t0)) == "C\r");
    CHECK_FALSE(link.transmit(t0));  // one command at a time
    link.receive(bytes("\a"), t0 + 1ms);  // BELL to C: the channel was closed already
    CHECK(text(link.transmit(t0 + 1ms)) == "S8\r");
    link.receive(bytes("\r"), t0 + 2ms);
    CHECK(text(link.transmit(t0 + 2ms)) == "O\r");
    CHECK_FALSE(link.open());
    link.receive(bytes("\r"), t0 + 3ms);
    CHECK(link.open());
    auto opened = link.completed();
    REQUIRE(opened);
    CHECK(opened->id == slcan::Link::kOpened);
    CHECK(static_cast<bool>(opened->reply));
    CHECK_FALSE(link.completed());
    CHECK(*link.note() == "event=slcan_open bitrate=1000000");
    link.tick(t0 + 3ms);
    const auto line = text(link.transmit(t0 + 3ms));
    CHECK(line.front() == 'T');
    CHECK(line.back() == '\r');
    auto parsed = slcan::parse_line(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(parsed);
    CHECK(decode_id(std::get<slcan::FrameLine>(*parsed).frame.id).data_type_id == NodeStatus::id);
    // The bus: an ESC's NodeStatus, with the adapter's 'z' acknowledgements in between.
    std::string in = "z\r";
    for (const auto& f : from(21, Kind::message, NodeStatus::id, 0, 0, status(9).encode(), NodeStatus::signature)) in += slcan::frame(f);
    link.receive(bytes(in), t0 + 10ms);
    CHECK(n.nodes().at(21).online);
    link.receive(bytes("\a"), t0 + 11ms);
    CHECK(*link.note() == "event=slcan_refused (the adapter's transmit buffer is full or the bus is off)");
    CHECK(*link.note() == "event=node_online node=21 health=0 mode=0");  // the link's notes first, then the node's
}

TEST_CASE("slcan link: a refused bitrate, a silent port and an unknown rate are each named; the node's requests fail with it") {
    {
        Node n(100);
        slcan::Link link(n, 500'000);
        const auto id = n.get_node_info(20, {100ms, 1}, t0);
        link.transmit(t0);
        link.receive(bytes("\r"), t0);
        CHECK(text(link.transmit(t0)) == "S6\r");
        link.receive(bytes("\a"), t0 + 1ms);
        REQUIRE(link.failed());
        CHECK(*link.failed() == "slcan adapter refused bitrate 500000 bit/s (S6)");
        auto opened = link.completed();  // the opener learns first
        REQUIRE(opened);
        CHECK(opened->id == slcan::Link::kOpened);
        CHECK(opened->reply.error().message == "slcan adapter refused bitrate 500000 bit/s (S6)");
        auto done = link.completed();
        REQUIRE(done);
        CHECK(done->id == id);
        CHECK(done->reply.error().message == "slcan adapter refused bitrate 500000 bit/s (S6)");
        CHECK_FALSE(link.transmit(t0 + 2ms));
        CHECK_FALSE(link.deadline());
    }
    {
        Node n(100);
        slcan::Link link(n, 1'000'000);
        link.transmit(t0);
        CHECK(*link.deadline() == t0 + 500ms);
        link.tick(t0 + 499ms);
        CHECK_FALSE(link.failed());
        link.tick(t0 + 500ms);
        CHECK(*link.failed() == "slcan adapter did not answer C within 500 ms (no adapter on this port?)");
    }
    Node n(100);
    CHECK_THROWS_WITH(slcan::Link(n, 2'000'000), "slcan: no SLCAN bitrate code for 2000000 bit/s (S0..S8: 10k..1M)");
}
