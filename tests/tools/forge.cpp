// Test-only attacker: re-signs a certificate envelope with a given secret key after replacing
// text in its payload, as someone holding another station's (or a retired) key would.
// usage: forge SECRET_KEY_FILE [FROM TO]... < envelope.json > forged.json
#include <boost/json.hpp>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <sodium.h>
#include <string>

#include "reports/dsse.hpp"

int main(int argc, char** argv) {
    if (argc < 2 || argc % 2 != 0) {
        std::fprintf(stderr, "usage: forge SECRET_KEY_FILE [FROM TO]... < envelope > forged\n");
        return 2;
    }
    auto key = rig::reports::StationKey::load(argv[1]);
    if (!key) {
        std::fprintf(stderr, "forge: %s\n", key.error().message.c_str());
        return 2;
    }
    const std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    auto env = boost::json::parse(text).as_object();
    const std::string b64(env.at("payload").as_string());
    std::string payload(b64.size(), '\0');
    std::size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(payload.data()), payload.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return 2;
    payload.resize(len);
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string from = argv[i], to = argv[i + 1];
        const auto at = payload.find(from);
        if (at == std::string::npos) {
            std::fprintf(stderr, "forge: '%s' not in the payload\n", from.c_str());
            return 2;
        }
        payload.replace(at, from.size(), to);
    }
    std::cout << rig::reports::make_envelope(payload, *key) << "\n";
    return 0;
}
