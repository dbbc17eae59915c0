// Awaiting the archive writer's thread from the io thread: the work runs there, and only its
// result comes back (an fsync never stalls the heartbeat or another nest's motor timing).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <functional>

#include "reports/certificate.hpp"
#include "rig/archive/ledger.hpp"
#include "rig/archive/writer.hpp"

namespace rig::station {

namespace asio = boost::asio;

// Runs f on the archive writer's thread and resumes the caller on its own executor with the
// result only: the work itself never touches the io thread.
asio::awaitable<Result<void>> on_writer(archive::Writer& writer, std::function<Result<void>()> f);

// Queues the certificate for the writer's next group commit; resumes once it is durable.
asio::awaitable<Result<archive::Committed>> commit_durably(archive::Writer& writer, archive::Ledger& ledger, reports::Certificate& cert);

}  // namespace rig::station
