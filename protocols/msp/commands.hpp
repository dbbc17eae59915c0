// MSP configuration and action commands (reference/protocols.md §2.8): NAME / SET_NAME,
// BUILD_INFO, ACC_CALIBRATION, EEPROM_WRITE, REBOOT, SET_ARMING_DISABLED.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "protocols/msp/messages.hpp"

namespace rig::msp {

namespace cmd {
inline constexpr std::uint16_t build_info = 5;
inline constexpr std::uint16_t name = 10;
inline constexpr std::uint16_t set_name = 11;
inline constexpr std::uint16_t reboot = 68;
inline constexpr std::uint16_t set_arming_disabled = 99;
inline constexpr std::uint16_t acc_calibration = 205;
inline constexpr std::uint16_t eeprom_write = 250;
}  // namespace cmd

inline constexpr std::size_t kMaxNameLength = 16;

struct Name {  // MSP_NAME reply: the characters, no length byte
    static constexpr std::uint16_t command = cmd::name;
    std::string name;
    Bytes encode() const { return ByteWriter().chars(std::string_view(name).substr(0, kMaxNameLength)).take(); }
    static Result<Name> decode(ByteView p);
};

struct BuildInfo {
    static constexpr std::uint16_t command = cmd::build_info;
    std::string date;      // "MMM DD YYYY"
    std::string time;      // "HH:MM:SS"
    std::string revision;  // 7 hex digits
    std::vector<std::uint16_t> options;  // API >= 1.46
    Bytes encode() const;
    static Result<BuildInfo> decode(ByteView p);
    bool operator==(const BuildInfo&) const = default;
};

enum class RebootMode : std::uint8_t { firmware = 0, bootloader_rom = 1, mass_storage = 2, mass_storage_utc = 3, bootloader_flash = 4 };

// Requests: frames ready to send. Action commands answer with an empty reply, or '!'.
Frame set_name(std::string_view name);   // cut to 16 characters
Frame acc_calibration();
Frame eeprom_write();
Frame reboot(RebootMode mode = RebootMode::firmware);
Frame set_arming_disabled(bool disabled, bool disable_runaway_takeoff = false);

// The reboot reply echoes the mode (and a file-system-ready byte for mass storage).
Result<RebootMode> decode_reboot_reply(const Frame& reply);
// Checks that an action command was accepted (an empty reply, not '!').
Result<void> check_ack(const Frame& reply, std::uint16_t command);

}  // namespace rig::msp
