// rigd's HTTP API and operator page: the server, its router, the tokens, the event fan-out
// and the metrics, wired to the nests. Beast stays in rig/api/server.cpp.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "rig/app/line.hpp"
#include "rig/app/paths.hpp"

namespace boost::asio {
class io_context;
}

namespace rig::app {

struct ApiOptions {
    std::string listen;  // "ADDR:PORT", "[v6]:PORT", or "off"
    std::filesystem::path page_dir;
    std::string openapi;
    std::string tls_cert, tls_key;  // PEM files: HTTPS and WSS; empty: plain HTTP
};

// "127.0.0.1:8420" -> address and port; an error names the flag.
Result<std::pair<std::string, unsigned short>> parse_listen(const std::string& text);
// The operator page's files: --page, else the installed share/rig/page, else the source tree.
std::filesystem::path page_dir(const std::string& given, const char* argv0);

class RigdApi {
public:
    // nullptr (and no error) when options.listen is "off".
    static Result<std::unique_ptr<RigdApi>> start(boost::asio::io_context& io, const ApiOptions& options, std::vector<Nest>& nests,
                                                  const DataPaths& paths);
    ~RigdApi();
    station::EventSink sink();  // every nest's events: to the WebSocket clients and the metrics
    std::string url() const;
    void close();
    struct Impl;

private:
    explicit RigdApi(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace rig::app
