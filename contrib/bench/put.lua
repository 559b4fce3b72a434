-- put.lua: wrk script for bench.sh: v2 PUT of unique keys with a fixed-size
-- value. Usage: wrk -s put.lua URL -- [value_bytes] [key_prefix]
-- Each wrk thread writes its own key series (<prefix>/<thread>-<n>), so no
-- two requests touch the same key and the store grows as in real use.

local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

function init(args)
	local size = tonumber(args[1] or "256")
	prefix = args[2] or "/v2/keys/bench/put"
	-- Only unreserved characters, so the form body needs no escaping.
	body = "value=" .. string.rep("v", size)
	headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
	n = 0
end

function request()
	n = n + 1
	return wrk.format("PUT", prefix .. "/" .. tid .. "-" .. n, headers, body)
end
