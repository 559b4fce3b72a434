-- v3range.lua: wrk script for bench.sh: v3 gateway range (POST
-- /v3/kv/range, linearizable as etcd's default) of the key "v3get", which
-- bench.sh writes before the load.
function init(args)
	headers = { ["Content-Type"] = "application/json" }
	body = '{"key":"djNnZXQ="}'
end

function request()
	return wrk.format("POST", "/v3/kv/range", headers, body)
end
