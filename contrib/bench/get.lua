-- get.lua: wrk script for bench.sh: v2 GET of one existing key (created by
-- bench.sh before the run). Usage: wrk -s get.lua URL -- [key_path]
-- A serializable read (no quorum=true), which is what etcd v2 clients send
-- by default.

function init(args)
	path = args[1] or "/v2/keys/bench/get"
	req = wrk.format("GET", path)
end

function request()
	return req
end
