// libFuzzer target: rig's DroneCAN node driven by a script read from the input: CAN frames
// received (any id, any data), time passing, GetNodeInfo requests, cancels, the ESC stream
// started and stopped, the link lost. The node never crashes, completes each request at most
// once and only requests it was given, never sends a RawCommand after stop_esc(), and its
// deadline is never in the past after tick() once its frames are sent.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "protocols/fuzz/script.hpp"

#include "protocols/dronecan/node.hpp"

namespace {
using namespace rig;
using namespace std::chrono_literals;

using fuzz::Script;

void check_at(bool ok, int line) {
    if (ok) return;
    std::fprintf(stderr, "dronecan_node_fuzz: invariant at line %d broken\n", line);
    std::abort();
}
#define check(...) check_at((__VA_ARGS__), __LINE__)
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Script s{data, size};
    dronecan::Node node(static_cast<std::uint8_t>(1 + s.next() % 125));
    session::Time now{std::chrono::seconds(1)};
    std::set<session::RequestId> issued, completed;
    bool stopped = false;
    while (s.n) {
        const auto op = s.next() % 7;
        switch (op) {
        case 0: {  // a frame from the bus
            CanFrame f;
            std::uint32_t id = 0;
            for (int i = 0; i < 4; ++i) id = (id << 8) | s.next();
            f.id = id & kCanExtMask;
            f.extended = !(s.n && (s.next() & 0x80));
            const std::size_t len = s.next() % 9;
            for (std::size_t i = 0; i < len; ++i) f.data.push_back(std::byte{s.next()});
            node.receive(f, now);
            break;
        }
        case 1: now += std::chrono::milliseconds(s.next() * 16); node.tick(now); break;
        case 2: issued.insert(node.get_node_info(s.next(), {std::chrono::milliseconds(1 + s.next()), 1 + s.next() % 3}, now)); break;
        case 3:
            if (!issued.empty()) node.cancel(*issued.begin()), completed.insert(*issued.begin());
            break;
        case 4: node.stream_esc({static_cast<std::int16_t>(s.next() * 30), 0}, std::chrono::milliseconds(s.next()), now), stopped = false; break;
        case 5: node.stop_esc(now), stopped = true; break;
        default: node.link_lost(make_error(Errc::io_error, "lost")), stopped = true; break;
        }
        bool first_after_stop = true;
        while (auto f = node.transmit(now)) {
            const auto id = dronecan::decode_id(f->id);
            if (stopped && id.kind == dronecan::Kind::message && id.data_type_id == dronecan::EscRawCommand::id) {
                // Only the one all-zero stop command may follow stop_esc().
                auto t = dronecan::Reassembler(1, dronecan::known_signature).feed(*f, 1);
                check(first_after_stop && t && dronecan::EscRawCommand::decode(t->payload)->cmd == std::vector<std::int16_t>{0, 0});
                first_after_stop = false;
            }
        }
        while (auto d = node.completed()) {
            check(issued.count(d->id) == 1);
            check(completed.insert(d->id).second);
        }
        // After tick() and with everything sent, nothing is overdue.
        if (op == 1)
            if (auto dl = node.deadline()) check(*dl > now);
        while (node.note()) {}
    }
    return 0;
}
