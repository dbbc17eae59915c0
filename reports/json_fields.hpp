// Strict readers of signed JSON fields, shared by certificates and checkpoints: a field of the
// wrong type or out of range is reported by its path, never cast (a sequence of -1, 1e300, null
// or 1.5 is an error, not a number). The first problem is kept in `error`.
#pragma once
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <string>

#include "reports/text.hpp"

namespace rig::reports {

struct FieldReader {
    explicit FieldReader(std::string what) : what(std::move(what)) {}
    std::string what;   // "certificate", "checkpoint": the message prefix
    std::string error;

    void fail(const char* where, const char* key, const std::string& why) {
        if (error.empty()) error = fmt::format("{}: {}.{}: {}", what, where, key, why);
    }
    const boost::json::value* get(const boost::json::object& o, const char* key, const char* where) {
        auto* v = o.if_contains(key);
        if (!v) fail(where, key, "missing");
        return v;
    }
    std::string str(const boost::json::object& o, const char* key, const char* where) {
        auto* v = get(o, key, where);
        if (!v) return {};
        if (!v->is_string()) {
            fail(where, key, "not a string");
            return {};
        }
        return std::string(v->get_string());
    }
    // A count from 1 up: an exact JSON integer, nothing else.
    std::uint64_t count(const boost::json::object& o, const char* key, const char* where) {
        auto* v = get(o, key, where);
        if (!v) return 0;
        if (v->is_uint64() && v->get_uint64() >= 1) return v->get_uint64();
        if (v->is_int64() && v->get_int64() >= 1) return static_cast<std::uint64_t>(v->get_int64());
        fail(where, key, fmt::format("{} is not an integer from 1 up", printable(boost::json::serialize(*v))));
        return 0;
    }
    // A finite number, or null where the schema allows "no value" (NaN).
    double number(const boost::json::object& o, const char* key, const char* where, bool null_ok) {
        auto* v = get(o, key, where);
        if (!v) return 0;
        if (v->is_null() && null_ok) return std::nan("");
        if (!v->is_number()) {
            fail(where, key, "not a number");
            return 0;
        }
        const double d = v->to_number<double>();
        if (!std::isfinite(d)) fail(where, key, "not a finite number");
        return d;
    }
    std::string sha256(const boost::json::object& o, const char* key, const char* where, bool empty_ok) {
        auto s = str(o, key, where);
        if (!error.empty() || (empty_ok && s.empty())) return s;
        bool ok = s.size() == 64;
        for (char c : s) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        if (!ok) fail(where, key, fmt::format("'{}' is not a sha256 (64 lowercase hex digits)", printable(s)));
        return s;
    }
    std::string time(const boost::json::object& o, const char* key, const char* where) {
        auto s = str(o, key, where);
        if (error.empty() && !is_timestamp(s)) fail(where, key, fmt::format("'{}' is not a UTC time like 2026-11-23T10:00:00.000Z", printable(s)));
        return s;
    }
    std::string id(const boost::json::object& o, const char* key, const char* where) {
        auto s = str(o, key, where);
        if (error.empty())
            if (auto why = id_problem(s)) fail(where, key, *why);
        return s;
    }
};

}  // namespace rig::reports
