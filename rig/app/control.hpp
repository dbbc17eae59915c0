// rigd's local control socket (DATA/rigd.sock, a Unix stream socket for the station host's own
// users): one request line in, the reply out, then the connection closes. Requests:
//   status                          one line per nest: its state and totals
//   out-of-service STATION REASON   the nest finishes its unit, then takes none
//   in-service STATION              the nest takes units again
// A reply starting "error: " is a refusal. The later HTTP API is the remote way in.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace rig::app {

constexpr std::size_t kMaxControlRequest = 512;

class ControlServer {
public:
    using Handler = std::function<std::string(const std::string& request)>;
    // Binds `path` (replacing a stale socket file: rigd holds the data directory's lock) and
    // serves requests on the io thread until close().
    static std::unique_ptr<ControlServer> open(boost::asio::io_context& io, const std::filesystem::path& path, Handler handler, std::string& error);
    ~ControlServer();
    void close();
    struct Impl;

private:
    explicit ControlServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// rigctl's side: sends one request and returns the reply, or an error naming the socket.
bool control_request(const std::filesystem::path& path, const std::string& request, std::string& reply);

}  // namespace rig::app
