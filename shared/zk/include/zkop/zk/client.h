// zkop::zk::Client — a ZooKeeper client for long-lived daemons, over the official C client
// (libzookeeper-mt).
//
// Sessions
//  - Start() (or Connect()) creates a session with one of the servers of the connect string;
//    the C client moves between servers on its own. A lost connection keeps the session:
//    state goes kConnected -> kConnecting -> kConnected with the same session_id(), and the
//    session's ephemeral nodes and watches survive. That includes connections the server
//    closes (the C client logs errno 112, "Host is down"): a server that has not caught up
//    with the client's last zxid turns it away, and a server drops the connection of a
//    session that another handle resumes there (ClientOptions::resume).
//  - When the session expires (or authentication fails), the Client creates a new session
//    by itself: state goes kExpired -> kConnecting -> kConnected with a new session_id().
//    Every SessionListener is then called with the new id: that is where owners re-create
//    their ephemeral nodes and re-arm their one-shot watches. Digest credentials given in
//    ClientOptions or AddDigestAuth() are added to every new session before listeners run.
//
// Threading contract
//  - Every public method is thread-safe.
//  - Completion callbacks of *Async methods and one-shot watch callbacks run on the C
//    client's completion thread, one at a time, in server order. They must not block: no
//    sleeping, no waiting on locks held across ZooKeeper calls, no sync ZooKeeper calls.
//    A sync call made on the completion thread does not wait: it returns kWouldDeadlock at
//    once (waiting there would stop the thread that delivers its own answer). Calling
//    *Async methods from a callback is fine (that is how pipelines and re-arming work).
//  - State and session listeners run on the Client's own event thread, in order. They may
//    call sync methods (each blocks that thread, delaying later notifications, but cannot
//    deadlock); keep them short.
//  - Never destroy the Client from one of its callbacks or listeners. Destroy KeptWatch
//    handles before the Client.
//
// Async contract: an *Async method returns a Status. When it is ok the callback runs exactly
// once (with the server's answer, or kConnectionLoss / kSessionExpired / kClosing when the
// connection, the session or the Client goes away first). When it is not ok (kClosed,
// kInvalidState, kBadArguments) the callback is never called. Thousands of requests may be
// in flight; they are answered in submission order.
//
// Sync forms wait for the answer at most ClientOptions::operation_timeout and then return
// kOperationTimeout (the request may still be applied). They never throw.
//
// Connection loss after a write: the outcome is unknown (IsOutcomeUnknown()). For ephemeral
// nodes use CreateOwnedEphemeral(), which resolves it by checking ephemeralOwner.
//
// Logging: the C client's own log goes to zkop::log (component "zk.c"), rate-limited,
// at warn level by default. Credentials are never logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zkop/log/log.h"
#include "zkop/zk/ensemble_config.h"
#include "zkop/zk/status.h"
#include "zkop/zk/types.h"

namespace zkop::zk {

struct DigestCredential {
  std::string user;
  std::string password;  // never logged
};

// The id and password of a session: lets another handle take the session over (the C
// client's clientid_t). The password is a secret.
struct SessionCredentials {
  int64_t id = 0;
  std::string password;  // 16 raw bytes
};

struct ClientOptions {
  // "host:port,host:port[/chroot]". Required.
  std::string connect;
  // Requested session timeout; the ensemble clamps it to [2, 20] x tickTime.
  std::chrono::milliseconds session_timeout{30000};
  // How long sync calls wait for an answer. 0 means session_timeout + 2 s.
  std::chrono::milliseconds operation_timeout{0};
  // Added to every session, in order.
  std::vector<DigestCredential> digest_auth;
  // The ACL of nodes created with an empty ACL (and of parents made by make_parents).
  Acl default_acl;  // empty means OpenAcl()
  // Take over an existing session instead of creating one (id 0: create a new session).
  SessionCredentials resume;
  // While connected, how often the C client may resolve the connect string's names again
  // (zoo_set_servers_resolution_delay). 0 keeps the C client's default: on every wakeup of
  // its I/O thread — a getaddrinfo (netlink socket) and an open of /dev/urandom for every
  // request and ping. A reconnect always resolves again.
  std::chrono::milliseconds resolve_interval{0};
  // Log component suffix: lines appear as "zk.<name>".
  std::string name = "client";
};

struct CreateOptions {
  CreateMode mode = CreateMode::kPersistent;
  Acl acl;                    // empty means ClientOptions::default_acl
  bool make_parents = false;  // create missing ancestors as persistent nodes (default ACL)
};

using WatchFn = std::function<void(const WatchEvent&)>;
using CreateCallback = std::function<void(const CreateResult&)>;
using StatCallback = std::function<void(const StatResult&)>;
using DataCallback = std::function<void(const DataResult&)>;
using ChildrenCallback = std::function<void(const ChildrenResult&)>;
using MultiCallback = std::function<void(const MultiResult&)>;
using StateListener = std::function<void(State)>;
using SessionListener = std::function<void(int64_t session_id)>;

class Client;

// Keeps a data or children watch armed until destroyed (see Client::KeepWatchingData).
// Destruction (or Stop) waits for a callback that is running on another thread, and no
// callback starts afterwards. Thread-safe. Must be destroyed before its Client.
class KeptWatch {
 public:
  struct State;
  explicit KeptWatch(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~KeptWatch();
  KeptWatch(const KeptWatch&) = delete;
  KeptWatch& operator=(const KeptWatch&) = delete;
  void Stop();

 private:
  std::shared_ptr<State> state_;
};

class Client {
 public:
  // Does not connect. Throws std::invalid_argument when options.connect is empty
  // (a setup error).
  explicit Client(ClientOptions options);
  ~Client();  // Close()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Listeners (register before Start() to see the first session). Returned ids are for
  // RemoveListener, which does not wait for a running listener.
  int AddStateListener(StateListener listener);
  int AddSessionListener(SessionListener listener);
  void RemoveListener(int id);

  // Begins connecting; never blocks. Idempotent. Fails only with kClosed or kSystemError.
  Status Start();
  // Waits until connected. On timeout: kConnectTimeout naming the connect string; the
  // Client keeps trying in the background.
  Status WaitConnected(std::chrono::milliseconds timeout);
  // Start() + WaitConnected(timeout).
  Status Connect(std::chrono::milliseconds timeout);
  // Stops reconnecting and closes the session: at once (its ephemeral nodes go with it)
  // when connected; when not connected at that moment the C client cannot send the close,
  // and the session ends only when its timeout passes with no handle holding it. Pending
  // requests complete with kClosing; remaining one-shot watches get kClosed. Idempotent.
  void Close();

  State state() const;
  int64_t session_id() const;            // 0 before the first session
  SessionCredentials session() const;    // secret: never log the password
  std::string connected_server() const;  // "127.0.0.5:2181" while connected, else ""
  std::chrono::milliseconds negotiated_session_timeout() const;  // 0 when unknown
  const std::string& connect_string() const { return options_.connect; }

  // Adds a digest identity ("user:password") to the current session and to every later
  // one. Sync form waits for the server's answer.
  Status AddDigestAuth(const DigestCredential& credential);

  // --- async operations (see the async contract above) ---------------------------------
  Status CreateAsync(std::string_view path, std::string_view data, const CreateOptions& options,
                     CreateCallback done);
  Status DeleteAsync(std::string_view path, int version, StatCallback done);
  // Exists: kOk with the stat, or kNoNode. A watch is armed in both cases.
  Status ExistsAsync(std::string_view path, StatCallback done, WatchFn watch = nullptr);
  Status GetAsync(std::string_view path, DataCallback done, WatchFn watch = nullptr);
  Status SetAsync(std::string_view path, std::string_view data, int version, StatCallback done);
  Status GetChildrenAsync(std::string_view path, ChildrenCallback done, WatchFn watch = nullptr);
  Status MultiAsync(std::vector<Op> ops, MultiCallback done);
  Status GetConfigAsync(DataCallback done, WatchFn watch = nullptr);
  // Incremental: `joining` = server lines (Member::ServerLine), `leaving` = member ids.
  // Non-incremental: `members` = the whole new membership. `from_version` -1: any.
  // Requires the super user (digest auth) unless the server skips ACLs (zkop never does).
  Status ReconfigAsync(const std::vector<std::string>& joining, const std::vector<int>& leaving,
                       const std::vector<std::string>& members, int64_t from_version,
                       DataCallback done);
  // ZooKeeper's sync: the connected server catches up with the leader. Reads this Client
  // sends after the callback see every write the ensemble had committed when the leader
  // handled the sync, including writes made through other sessions (without it, a read is
  // answered by the connected server, which may not have applied them yet). `path` is
  // validated and reported in errors; the stat is unset.
  Status SyncAsync(std::string_view path, StatCallback done);
  // Creates an ephemeral node that this session owns, resolving lost connections:
  // after kConnectionLoss / kOperationTimeout (and on kNodeExists) it reads the node and
  // succeeds when ephemeralOwner is this session (the earlier attempt was applied), fails
  // with kNodeExists naming the owner when another session owns it, and retries the create
  // when the node is absent. Fails with kSessionExpired when the session changes meanwhile.
  // `options.mode` must be kEphemeral (kBadArguments otherwise); make_parents is honoured.
  Status CreateOwnedEphemeralAsync(std::string_view path, std::string_view data,
                                   const CreateOptions& options, CreateCallback done);

  // --- sync forms -----------------------------------------------------------------------
  CreateResult Create(std::string_view path, std::string_view data,
                      const CreateOptions& options = {});
  Status Delete(std::string_view path, int version = -1);
  Status Sync(std::string_view path);
  StatResult Exists(std::string_view path, WatchFn watch = nullptr);
  DataResult Get(std::string_view path, WatchFn watch = nullptr);
  StatResult Set(std::string_view path, std::string_view data, int version = -1);
  ChildrenResult GetChildren(std::string_view path, WatchFn watch = nullptr);
  MultiResult Multi(std::vector<Op> ops);
  DataResult GetConfig(WatchFn watch = nullptr);
  // Parsed GetConfig().
  Status GetEnsembleConfig(EnsembleConfig* out);
  DataResult Reconfig(const std::vector<std::string>& joining, const std::vector<int>& leaving,
                      const std::vector<std::string>& members = {}, int64_t from_version = -1);
  DataResult AddMembers(const std::vector<Member>& members);
  DataResult RemoveMembers(const std::vector<int>& ids);
  CreateResult CreateOwnedEphemeral(std::string_view path, std::string_view data,
                                    const CreateOptions& options = {
                                        CreateMode::kEphemeral, {}, false});
  // Deletes `path` and everything below it (children first). kNoNode when absent.
  Status DeleteTree(std::string_view path);

  // --- kept watches ---------------------------------------------------------------------
  // Calls `on_change` with the node's current data now and after every change, re-arming
  // the one-shot watch each time, across lost connections and new sessions. While the node
  // is absent `on_change` gets kNoNode and the watch waits for its creation. The same data
  // may be delivered twice (e.g. after a new session). Callbacks run on the completion
  // thread (see the threading contract).
  std::unique_ptr<KeptWatch> KeepWatchingData(std::string path, DataCallback on_change);
  // Likewise for the list of children.
  std::unique_ptr<KeptWatch> KeepWatchingChildren(std::string path, ChildrenCallback on_change);

  // Level of the C client's log, process-wide (it has one global level): lines below it
  // are dropped; the rest reach zkop::log one level lower (C "ERROR" becomes warn: the C
  // client reports every refused connection attempt as an error). Default: kWarn.
  static void SetCLogLevel(log::Level level);

  struct Impl;

 private:
  ClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zkop::zk
