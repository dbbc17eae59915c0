#include "protocols/crsf/crsf.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "protocols/common/crc.hpp"

namespace rig::crsf {
namespace {
Error truncated(const char* what, std::size_t n) {
    return make_error(Errc::protocol_error, fmt::format("crsf: {} payload truncated ({} bytes)", what, n));
}
std::uint8_t at(ByteView v, std::size_t i) { return std::to_integer<std::uint8_t>(v[i]); }

// A frame starts with the serial sync, broadcast, or a device address of §4.3. Anything else
// cannot start a frame; this keeps a stray length byte from stalling the parser.
bool may_start_frame(std::uint8_t b) {
    switch (b) {
    case 0x00: case 0x10: case 0x12: case 0x14: case 0x80: case 0xC0: case 0xC2: case 0xC4:
    case 0xC8: case 0xCC: case 0xCE: case 0xEA: case 0xEC: case 0xEE: case 0xEF:
        return true;
    default:
        return b >= 0x90 && b <= 0x97;  // ESC 1..8
    }
}
}  // namespace

Bytes encode(const Frame& f) {
    ByteWriter body;
    body.u8(f.type);
    if (is_extended(f.type)) body.u8(f.dest).u8(f.origin);
    body.bytes(f.payload);
    const auto crc = crc::crc8_dvb_s2(body.view());
    ByteWriter w;
    w.u8(f.address).u8(static_cast<std::uint8_t>(body.view().size() + 1)).bytes(body.view()).u8(crc);
    return w.take();
}

std::vector<Frame> Parser::feed(ByteView bytes) {
    std::vector<Frame> out;
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    std::size_t pos = 0;
    while (buf_.size() - pos >= 2) {
        if (!may_start_frame(at(buf_, pos))) {
            ++dropped_.garbage_bytes;
            ++pos;
            continue;
        }
        const std::size_t len = at(buf_, pos + 1);
        if (len < 2 || len > kMaxFrame - 2) {
            ++dropped_.bad_length;
            ++pos;
            continue;
        }
        if (buf_.size() - pos < len + 2) break;
        ByteView body = ByteView(buf_).subspan(pos + 2, len - 1);
        if (crc::crc8_dvb_s2(body) != at(buf_, pos + 1 + len)) {
            ++dropped_.bad_crc;
            ++pos;
            continue;
        }
        Frame f;
        f.address = at(buf_, pos);
        f.type = at(body, 0);
        std::size_t off = 1;
        if (is_extended(f.type)) {
            if (body.size() < 3) {
                ++dropped_.bad_length;
                ++pos;
                continue;
            }
            f.dest = at(body, 1);
            f.origin = at(body, 2);
            off = 3;
        }
        f.payload.assign(body.begin() + static_cast<std::ptrdiff_t>(off), body.end());
        out.push_back(std::move(f));
        pos += len + 2;
    }
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos));
    return out;
}

Bytes RcChannels::encode() const {
    Bytes out(22, std::byte{0});
    for (std::size_t ch = 0; ch < 16; ++ch) {
        const std::uint32_t v = ticks[ch] & 0x7FF;
        for (int b = 0; b < 11; ++b) {
            if (!((v >> b) & 1)) continue;
            const std::size_t bit = ch * 11 + static_cast<std::size_t>(b);
            out[bit / 8] |= static_cast<std::byte>(1u << (bit % 8));
        }
    }
    return out;
}

Result<RcChannels> RcChannels::decode(ByteView p) {
    if (p.size() < 22) return truncated("RC_CHANNELS_PACKED", p.size());
    RcChannels rc;
    for (std::size_t ch = 0; ch < 16; ++ch) {
        std::uint16_t v = 0;
        for (int b = 0; b < 11; ++b) {
            const std::size_t bit = ch * 11 + static_cast<std::size_t>(b);
            if ((at(p, bit / 8) >> (bit % 8)) & 1) v = static_cast<std::uint16_t>(v | (1u << b));
        }
        rc.ticks[ch] = v;
    }
    return rc;
}

double ticks_to_us(std::uint16_t t) { return (static_cast<double>(t) - 992.0) * 5.0 / 8.0 + 1500.0; }
std::uint16_t us_to_ticks(double us) { return static_cast<std::uint16_t>(std::clamp(std::lround((us - 1500.0) * 8.0 / 5.0 + 992.0), 0L, 2047L)); }

Bytes LinkStatistics::encode() const {
    return ByteWriter()
        .u8(uplink_rssi1_neg_dbm).u8(uplink_rssi2_neg_dbm).u8(uplink_lq_pct).i8(uplink_snr_db).u8(active_antenna).u8(rf_mode)
        .u8(uplink_tx_power).u8(downlink_rssi_neg_dbm).u8(downlink_lq_pct).i8(downlink_snr_db).take();
}
Result<LinkStatistics> LinkStatistics::decode(ByteView p) {
    if (p.size() < 10) return truncated("LINK_STATISTICS", p.size());
    ByteReader r(p);
    LinkStatistics s;
    s.uplink_rssi1_neg_dbm = *r.u8();
    s.uplink_rssi2_neg_dbm = *r.u8();
    s.uplink_lq_pct = *r.u8();
    s.uplink_snr_db = *r.i8();
    s.active_antenna = *r.u8();
    s.rf_mode = *r.u8();
    s.uplink_tx_power = *r.u8();
    s.downlink_rssi_neg_dbm = *r.u8();
    s.downlink_lq_pct = *r.u8();
    s.downlink_snr_db = *r.i8();
    return s;
}
int LinkStatistics::uplink_tx_power_mw() const {
    static constexpr int kMw[] = {0, 10, 25, 100, 500, 1000, 2000, 250, 50};
    return uplink_tx_power < std::size(kMw) ? kMw[uplink_tx_power] : -1;
}

Bytes BatterySensor::encode() const {
    return ByteWriter()
        .u16be(static_cast<std::uint16_t>(std::clamp(std::lround(voltage_v * 10), 0L, 65535L)))
        .u16be(static_cast<std::uint16_t>(std::clamp(std::lround(current_a * 10), 0L, 65535L)))
        .u24be(capacity_mah & 0xFFFFFF).u8(remaining_pct).take();
}
Result<BatterySensor> BatterySensor::decode(ByteView p) {
    if (p.size() < 8) return truncated("BATTERY_SENSOR", p.size());
    ByteReader r(p);
    BatterySensor b;
    b.voltage_v = *r.u16be() / 10.0;
    b.current_a = *r.u16be() / 10.0;
    b.capacity_mah = *r.u24be();
    b.remaining_pct = *r.u8();
    return b;
}

Bytes DeviceInfo::encode() const {
    return ByteWriter().cstring(name).u32be(serial).u32be(hardware_id).u32be(firmware_id).u8(parameter_count).u8(parameter_version).take();
}
Result<DeviceInfo> DeviceInfo::decode(ByteView p) {
    ByteReader r(p);
    DeviceInfo d;
    auto name = r.cstring();
    auto serial = r.u32be(), hw = r.u32be(), fw = r.u32be();
    auto count = r.u8(), version = r.u8();
    if (!name || !serial || !hw || !fw || !count || !version) return truncated("DEVICE_INFO", p.size());
    d.name = *name;
    d.serial = *serial;
    d.hardware_id = *hw;
    d.firmware_id = *fw;
    d.parameter_count = *count;
    d.parameter_version = *version;
    return d;
}

Result<ParameterRead> ParameterRead::decode(ByteView p) {
    if (p.size() < 2) return truncated("PARAMETER_READ", p.size());
    return ParameterRead{at(p, 0), at(p, 1)};
}

Result<ParameterEntryChunk> ParameterEntryChunk::decode(ByteView p) {
    if (p.size() < 2) return truncated("PARAMETER_SETTINGS_ENTRY", p.size());
    return ParameterEntryChunk{at(p, 0), at(p, 1), Bytes(p.begin() + 2, p.end())};
}

Result<ParameterWrite> ParameterWrite::decode(ByteView p) {
    if (p.size() < 2) return truncated("PARAMETER_WRITE", p.size());
    return ParameterWrite{at(p, 0), Bytes(p.begin() + 1, p.end())};
}

Result<ParameterEntry> ParameterEntry::decode(ByteView data) {
    ByteReader r(data);
    ParameterEntry e;
    auto parent = r.u8();
    auto type = r.u8();
    if (!type) return truncated("parameter entry", data.size());
    e.parent = *parent;
    e.hidden = (*type & 0x80) != 0;
    e.type = static_cast<Type>(*type & 0x7F);
    if (e.type == Type::out_of_range) return e;
    auto name = r.cstring();
    if (!name) return truncated("parameter entry name", data.size());
    e.name = *name;
    auto bad = [&](const char* what) { return make_error(Errc::protocol_error, fmt::format("crsf: parameter '{}': {} truncated", e.name, what)); };
    switch (e.type) {
    case Type::text_selection: {
        auto opts = r.cstring();
        auto v = r.u8(), mn = r.u8(), mx = r.u8(), df = r.u8();
        auto unit = r.cstring();
        if (!opts || !df) return bad("selection");
        std::size_t start = 0;
        for (std::size_t i = 0; i <= opts->size(); ++i)
            if (i == opts->size() || (*opts)[i] == ';') {
                e.options.push_back(opts->substr(start, i - start));
                start = i + 1;
            }
        e.value = *v;
        e.min = *mn;
        e.max = *mx;
        e.default_value = *df;
        e.unit = unit.value_or("");
        break;
    }
    case Type::float_: {
        auto v = r.u32be(), mn = r.u32be(), mx = r.u32be(), df = r.u32be();
        auto dp = r.u8();
        auto st = r.u32be();
        if (!st) return bad("float");
        e.fvalue = static_cast<std::int32_t>(*v);
        e.fmin = static_cast<std::int32_t>(*mn);
        e.fmax = static_cast<std::int32_t>(*mx);
        e.fdefault = static_cast<std::int32_t>(*df);
        e.decimal_point = *dp;
        e.step = static_cast<std::int32_t>(*st);
        e.unit = r.cstring().value_or("");
        break;
    }
    case Type::string: {
        auto v = r.cstring();
        if (!v) return bad("string");
        e.text = *v;
        e.max = r.u8().value_or(0);
        break;
    }
    case Type::info: {
        auto v = r.cstring();
        if (!v) return bad("info");
        e.text = *v;
        break;
    }
    case Type::folder:
        while (auto c = r.u8()) {
            if (*c == 0xFF) break;
            e.children.push_back(*c);
        }
        break;
    case Type::command: {
        auto st = r.u8(), to = r.u8();
        if (!to) return bad("command");
        e.status = *st;
        e.timeout_100ms = *to;
        e.text = r.cstring().value_or("");
        break;
    }
    default: break;  // deprecated numeric types: name only
    }
    return e;
}

Frame make_command(std::uint8_t dest, std::uint8_t origin, std::uint8_t command_id, ByteView payload) {
    ByteWriter inner;
    inner.u8(type::command).u8(dest).u8(origin).u8(command_id).bytes(payload);
    const auto inner_crc = crc::crc8_ba(inner.view());
    Frame f;
    f.type = type::command;
    f.dest = dest;
    f.origin = origin;
    f.payload = ByteWriter().u8(command_id).bytes(payload).u8(inner_crc).take();
    return f;
}

Frame make_ping(std::uint8_t dest, std::uint8_t origin) {
    Frame f;
    f.type = type::device_ping;
    f.dest = dest;
    f.origin = origin;
    return f;
}

}  // namespace rig::crsf
