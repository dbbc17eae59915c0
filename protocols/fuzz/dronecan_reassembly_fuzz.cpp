// libFuzzer target: DroneCAN reassembly fed arbitrary frames (id, dlc, data, time step from the input).
#include <cstddef>
#include <cstdint>

#include "protocols/dronecan/messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rig::dronecan::Reassembler rx(127, rig::dronecan::known_signature, 1000);
    std::uint64_t now = 0;
    std::size_t i = 0;
    while (i + 6 <= size) {
        rig::CanFrame f;
        f.id = (std::uint32_t{data[i]} | std::uint32_t{data[i + 1]} << 8 | std::uint32_t{data[i + 2]} << 16 | std::uint32_t{data[i + 3]} << 24) &
               rig::kCanExtMask;
        f.extended = !(data[i + 3] & 0x80);
        const std::size_t dlc = data[i + 4] % 9;
        now += data[i + 5];
        i += 6;
        for (std::size_t k = 0; k < dlc && i < size; ++k) f.data.push_back(static_cast<std::byte>(data[i++]));
        if (auto t = rx.feed(f, now)) {
            (void)rig::dronecan::EscStatus::decode(t->payload);
            (void)rig::dronecan::BatteryInfo::decode(t->payload);
            (void)rig::dronecan::GetNodeInfo::Response::decode(t->payload);
            (void)rig::dronecan::EscRawCommand::decode(t->payload);
            (void)rig::dronecan::NodeStatus::decode(t->payload);
        }
    }
    return 0;
}
