// libFuzzer target: every typed decoder of every protocol, fed the same arbitrary payload. Each
// must return a value or a "truncated"/"malformed" error, never read past the payload (the CI
// replay builds with _GLIBCXX_ASSERTIONS, so dereferencing an empty optional aborts).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/crsf/crsf.hpp"
#include "protocols/dronecan/messages.hpp"
#include "protocols/jig/jig.hpp"
#include "protocols/mavlink/messages.hpp"
#include "protocols/msp/commands.hpp"
#include "protocols/msp/messages.hpp"
#include "protocols/msp/telemetry.hpp"
#include "protocols/scpi/scpi.hpp"
#include "protocols/slcan/slcan.hpp"
#include "protocols/usbtmc/usbtmc.hpp"

namespace {

template <class... M>
void msp_all(rig::ByteView p) {
    (..., (void)M::decode(p));
}

template <class... M>
void mavlink_all(rig::ByteView p) {
    rig::mavlink::Frame f;
    f.payload.assign(p.begin(), p.end());
    auto one = [&](auto tag) {
        using T = typename decltype(tag)::type;
        f.msgid = T::info.id;
        (void)rig::mavlink::decode<T>(f);
    };
    (..., one(std::type_identity<M>{}));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const rig::ByteView p(reinterpret_cast<const std::byte*>(data), size);
    using namespace rig;
    msp_all<msp::ApiVersion, msp::FcVariant, msp::FcVersion, msp::BoardInfo, msp::Uid, msp::Analog, msp::RawImu, msp::Motor,
            msp::SetMotor, msp::MotorTelemetry, msp::MotorConfig, msp::Name, msp::BuildInfo, msp::Status, msp::StatusEx, msp::Attitude, msp::Altitude,
            msp::BatteryState, msp::Rc, msp::VtxConfig, msp::SetVtxConfig, msp::SensorAlignment>(p);
    msp_all<crsf::RcChannels, crsf::LinkStatistics, crsf::BatterySensor, crsf::DeviceInfo, crsf::ParameterRead,
            crsf::ParameterEntryChunk, crsf::ParameterEntry, crsf::ParameterWrite>(p);
    msp_all<dronecan::NodeStatus, dronecan::GetNodeInfo::Response, dronecan::EscRawCommand, dronecan::EscStatus,
            dronecan::BatteryInfo>(p);
    mavlink_all<mavlink::Heartbeat, mavlink::SysStatus, mavlink::ParamRequestRead, mavlink::ParamValue, mavlink::ParamSet,
                mavlink::GpsRawInt, mavlink::ScaledImu, mavlink::RawImu, mavlink::ScaledPressure, mavlink::Attitude,
                mavlink::CommandLong, mavlink::CommandAck, mavlink::RadioStatus, mavlink::BatteryStatus,
                mavlink::AutopilotVersion, mavlink::StatusText, mavlink::EscInfo, mavlink::EscStatus, mavlink::ParamRequestList,
                mavlink::RcChannels, mavlink::EscTelemetry1To4>(p);
    (void)jig::decode_supply(p);
    (void)jig::decode_identity(p);
    (void)jig::decode_error(p);
    (void)usbtmc::parse_bulk_in_header(p);
    (void)usbtmc::parse_capabilities(p);
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)scpi::parse_number(text);
    (void)scpi::parse_integer(text);
    (void)scpi::parse_bool(text);
    (void)scpi::parse_string(text);
    (void)scpi::parse_number_list(text);
    (void)scpi::parse_error(text);
    (void)scpi::parse_idn(text);
    (void)scpi::parse_block(p, true);
    (void)slcan::parse_line(text);
    return 0;
}
