-- wrk script of custadmin-load's login throughput (tests/src/load/logins.rs): each connection
-- posts POST /api/v1/auth/login with a correct password, the accounts taken in turn. The
-- requests are formatted once in init, so the client does next to nothing per request and
-- leaves the CPU to the server. Arguments: the password, then the account names.

local requests = {}
local next_index = 1

-- Each wrk thread starts at its own place in the list, so two threads never walk in step.
local thread_count = 0
function setup(thread)
  thread:set("first", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  local password = args[1]
  for i = 2, #args do
    local body = string.format('{"username":"%s","password":"%s"}', args[i], password)
    requests[#requests + 1] =
      wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
  end
  next_index = ((first or 0) * 7) % #requests + 1
end

function request()
  local request = requests[next_index]
  next_index = next_index % #requests + 1
  return request
end

-- One line for the driver to read: counts, and latency percentiles in microseconds.
function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    "wrk-summary {\"requests\":%d,\"duration_us\":%d,\"non_2xx_3xx\":%d,\"connect_errors\":%d," ..
      "\"read_errors\":%d,\"write_errors\":%d,\"timeouts\":%d,\"p50_us\":%d,\"p90_us\":%d," ..
      "\"p99_us\":%d,\"max_us\":%d}\n",
    summary.requests, summary.duration, errors.status, errors.connect, errors.read, errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
