-- v3put.lua: wrk script for bench.sh: v3 gateway put (POST /v3/kv/put) of
-- unique keys with a fixed-size value. Usage: wrk -s v3put.lua URL --
-- [value_bytes]. Keys are "v3b/<thread>-<n>", base64 encoded as the
-- gateway wants; each wrk thread writes its own series.

local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function b64(s)
	return ((s:gsub(".", function(x)
		local r, b = "", x:byte()
		for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
		return r
	end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
		if #x < 6 then return "" end
		local c = 0
		for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
		return b64chars:sub(c + 1, c + 1)
	end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

function init(args)
	local size = tonumber(args[1] or "256")
	value = b64(string.rep("v", size))
	headers = { ["Content-Type"] = "application/json" }
	n = 0
end

function request()
	n = n + 1
	local body = '{"key":"' .. b64("v3b/" .. tid .. "-" .. n) .. '","value":"' .. value .. '"}'
	return wrk.format("POST", "/v3/kv/put", headers, body)
end
