#include "rig/station/on_writer.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace rig::station {

// Runs f on the archive writer's thread and resumes the caller on its own executor with the
// result only: the work itself never touches the io thread.
asio::awaitable<Result<void>> on_writer(archive::Writer& writer, std::function<Result<void>()> f) {
    using T = Result<void>;
    auto ex = co_await asio::this_coro::executor;
    auto initiate = [&writer, &f, ex](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        writer.run([h, f = std::move(f), ex]() mutable {
            asio::post(ex, [h, r = std::make_shared<T>(f())]() mutable { (*h)(std::move(*r)); });
        });
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(initiate, asio::use_awaitable);
}

// Queues the certificate for the writer's next group commit; resumes once it is durable.
asio::awaitable<Result<archive::Committed>> commit_durably(archive::Writer& writer, archive::Ledger& ledger, reports::Certificate& cert) {
    using R = Result<archive::Committed>;
    auto ex = co_await asio::this_coro::executor;
    auto initiate = [&writer, &ledger, &cert, ex](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        writer.commit(ledger, cert, [h, ex](R r) {
            asio::post(ex, [h, r = std::make_shared<R>(std::move(r))]() mutable { (*h)(std::move(*r)); });
        });
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(initiate, asio::use_awaitable);
}

}  // namespace rig::station
