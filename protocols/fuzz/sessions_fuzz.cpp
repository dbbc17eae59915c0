// libFuzzer target: the sans-IO sessions (msp, jig, mavlink, crsf handset, DroneCAN over SLCAN, SCPI) driven by a script
// read from the input: bytes received, time passing, requests made, cancelled, the link lost.
// Whatever the peer sends and whenever, a session never crashes, completes each request at most
// once and only requests it was given (or its own), and its deadline never lies in the past
// after tick() unless it has something to send.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>

#include "protocols/fuzz/script.hpp"

#include "protocols/crsf/handset.hpp"
#include "protocols/dronecan/node.hpp"
#include "protocols/jig/client.hpp"
#include "protocols/mavlink/client.hpp"
#include "protocols/msp/client.hpp"
#include "protocols/scpi/client.hpp"
#include "protocols/slcan/link.hpp"

namespace {

using namespace rig;
using namespace std::chrono_literals;

using fuzz::Script;

void check(bool ok) {
    if (!ok) std::abort();
}

void kind_toggle(dronecan::Node& node, session::Time now) {
    if (node.esc_streaming()) node.stop_esc(now);
    else node.stream_esc({1000, 0, 0, 0}, std::chrono::milliseconds(10), now);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Script s{data, size};
    msp::Client msp;
    jig::Client jig;
    mavlink::Client mav;
    crsf::Handset crsf;
    dronecan::Node node(100);
    slcan::Link can(node, 1'000'000);  // a DroneCAN node behind an SLCAN adapter
    scpi::Client scpi;
    const int which = s.next() % 6;
    session::Session* sess = which == 0 ? static_cast<session::Session*>(&msp) : which == 1 ? static_cast<session::Session*>(&jig)
                             : which == 2                                    ? static_cast<session::Session*>(&mav)
                             : which == 3                                    ? static_cast<session::Session*>(&crsf)
                             : which == 4                                    ? static_cast<session::Session*>(&can)
                                                                             : static_cast<session::Session*>(&scpi);
    session::Time now{std::chrono::seconds(1)};
    std::set<session::RequestId> issued, completed;
    if (which == 1) jig.keepalive(100ms);
    while (s.n) {
        const auto op = s.next() % 8;
        switch (op) {
        case 0: {  // bytes from the peer
            const std::size_t len = std::min<std::size_t>(s.next(), s.n);
            sess->receive(ByteView(reinterpret_cast<const std::byte*>(s.p), len), now);
            s.p += len;
            s.n -= len;
            break;
        }
        case 1: now += std::chrono::milliseconds(s.next() * 8); sess->tick(now); break;
        case 2: {  // a request
            const auto kind = s.next();
            const session::Policy policy{std::chrono::milliseconds(1 + s.next()), 1 + kind % 3};
            session::RequestId id = 0;
            if (which == 0) id = msp.request(kind, {}, policy);
            else if (which == 1) id = jig.request(static_cast<jig::Command>(kind % 0x16), {}, policy);
            else if (which == 2) {
                const auto k = kind % 3;
                id = k == 0 ? mav.command(mavlink::request_message({}, kind), policy, now)
                     : k == 1 ? mav.message(kind, now, policy.timeout, now)
                              : mav.params(policy, now);
            } else if (which == 3) {
                id = kind % 2 ? crsf.ping(crsf::addr::receiver, policy, now) : crsf.link_statistics(now, policy.timeout, now);
            } else if (which == 4) {
                id = node.get_node_info(kind, policy, now);
            } else {
                id = kind % 2 ? scpi.query("MEAS:POW?", policy.timeout) : scpi.command("OUTP OFF");
            }
            issued.insert(id);
            break;
        }
        case 3:
            for (int i = 0; i < 64 && sess->transmit(now); ++i) {}
            break;
        case 4:
            if (!issued.empty()) sess->cancel(*issued.begin());
            break;
        case 5: sess->link_lost(make_error(Errc::io_error, "lost")); break;
        case 6:
            if (which == 2) mav.keep_command(mavlink::motor_test({}, 1, mavlink::MotorTestThrottle::percent, 10, 3));
            if (which == 3) crsf.channels(std::array<std::uint16_t, 16>{});
            if (which == 4) kind_toggle(node, now);
            break;
        default: {
            sess->tick(now);
            // After tick, anything overdue is only output waiting to be sent.
            if (auto d = sess->deadline(); d && *d < now) check(sess->transmit(now).has_value() || which == 2);
            break;
        }
        }
        while (auto done = sess->completed()) {
            const bool internal = (which == 1 && jig.is_heartbeat(done->id)) || (which == 4 && done->id == slcan::Link::kOpened);
            check(internal || issued.count(done->id) == 1);
            check(completed.insert(done->id).second);  // at most once
        }
        while (sess->note()) {}
    }
    return 0;
}
