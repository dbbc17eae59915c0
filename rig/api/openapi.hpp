// The OpenAPI 3 description of the API (rig/api/openapi.json, built into the binary so that
// what rigd serves at /api/v1/openapi.json is always the description of its own routes).
#pragma once
#include <string_view>

namespace rig::api {

std::string_view openapi_document();

}  // namespace rig::api
