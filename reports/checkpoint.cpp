#include "reports/checkpoint.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "reports/json_fields.hpp"
#include "reports/text.hpp"
#include "reports/trust.hpp"

namespace rig::reports {
namespace json = boost::json;

std::string to_json(const Checkpoint& c) {
    json::object o;
    o["schema"] = kCheckpointSchema;
    o["station"] = c.station;
    o["sequence"] = c.sequence;
    o["head_sha256"] = c.head_sha256;
    o["time"] = c.time;
    return json::serialize(o);
}

Result<Checkpoint> checkpoint_from_json(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return make_error(Errc::parse_error, "checkpoint: not a JSON object");
    const auto& o = v.get_object();
    FieldReader r("checkpoint");
    Checkpoint c;
    const auto schema = r.str(o, "schema", "$");
    if (r.error.empty() && schema != kCheckpointSchema)
        return make_error(Errc::parse_error, fmt::format("checkpoint: unknown schema '{}'", printable(schema)));
    c.station = r.str(o, "station", "$");
    c.sequence = r.count(o, "sequence", "$");
    c.head_sha256 = r.sha256(o, "head_sha256", "$", false);
    c.time = r.time(o, "time", "$");
    if (!r.error.empty()) return make_error(Errc::parse_error, r.error);
    if (auto why = id_problem(c.station)) return make_error(Errc::parse_error, "checkpoint: $.station: station id " + *why);
    return c;
}

std::string sign_checkpoint(const Checkpoint& c, const StationKey& key) { return make_envelope(to_json(c), key, kCheckpointType); }

Result<Checkpoint> verify_checkpoint(std::string_view envelope, const TrustStore& trust) {
    auto v = verify_envelope(envelope, trust, kCheckpointType);
    if (!v) return v.error();
    auto c = checkpoint_from_json(v->payload);
    if (!c) return c.error();
    if (auto bound = trust.check(v->keyid, c->station, c->time); !bound) return bound.error();
    return c;
}

}  // namespace rig::reports
