// Helpers of the route handlers. Private to rig/api.
#pragma once
#include <boost/json/object.hpp>

#include "rig/api/call.hpp"

namespace rig::api {

Response status_of(const Error& e);  // not_found 404, invalid_argument 422, cancelled 409, else 500
Result<boost::json::object> body_object(const Call& c);  // an empty body is {}
Result<std::string> body_text(const boost::json::object& o, const char* key, bool required);

}  // namespace rig::api
