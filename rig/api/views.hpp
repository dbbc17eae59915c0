// The JSON the API and the page read: a nest, an event, a certificate row. No Asio.
#pragma once
#include <boost/json/object.hpp>
#include <string>

#include "rig/station/nest_view.hpp"

namespace rig::api {

boost::json::object measurement_json(const reports::Measurement& m);
boost::json::object nest_json(const station::NestView& v);
// One WebSocket message: {"type":..., "nest":{...}} and, for step_finished, "step":{...}.
std::string event_json(const station::NestEvent& e);

}  // namespace rig::api
