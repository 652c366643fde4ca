#!/usr/bin/env escript
%% SPDX-License-Identifier: BSD-2-Clause
%% erl_procs.escript -- the BEAM's schedulers, dirty schedulers, async
%% file I/O, ports, sockets and timers (realprogs-servers.sh).
%%! +S 4:4
-mode(compile).

relay(Next) ->
    receive
        {msg, 0} -> Next ! {msg, 0};
        {msg, K} -> Next ! {msg, K - 1}, relay(Next)
    end.

ring(N) ->
    Self = self(),
    First = lists:foldl(fun(_, Next) -> spawn(fun() -> relay(Next) end) end,
                        Self, lists:seq(1, N)),
    First ! {msg, N},
    receive {msg, 0} -> ok end.

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, Acc ++ D);
        {Port, {exit_status, S}} -> {Acc, S}
    end.

main(_) ->
    [ring(1000) || _ <- lists:seq(1, 20)],
    Self = self(),
    N = 20000,
    [spawn(fun() -> timer:sleep(rand:uniform(30)), Self ! {done, I} end)
     || I <- lists:seq(1, N)],
    Sum = lists:sum([receive {done, I} -> I end || _ <- lists:seq(1, N)]),
    io:format("timers ~p~n", [Sum]),
    T = ets:new(t, [public, {write_concurrency, true}]),
    Ws = [spawn_monitor(fun() -> [ets:insert(T, {I * 1000 + J, J})
                                  || J <- lists:seq(1, 1000)] end)
          || I <- lists:seq(1, 16)],
    [receive {'DOWN', R, process, P, normal} -> ok end || {P, R} <- Ws],
    io:format("ets ~p~n", [ets:info(T, size)]),
    Dir = os:getenv("TMPDIR", "/tmp"),
    Fs = [spawn_monitor(fun() ->
              F = filename:join(Dir, "erl_procs." ++ os:getpid() ++ "." ++
                                integer_to_list(I)),
              ok = file:write_file(F, binary:copy(<<"x">>, 10000)),
              {ok, B} = file:read_file(F),
              10000 = byte_size(B),
              ok = file:delete(F) end) || I <- lists:seq(1, 64)],
    [receive {'DOWN', R, process, P, normal} -> ok end || {P, R} <- Fs],
    io:format("files ok~n"),
    Big = term_to_binary(lists:seq(1, 200000), [compressed]),
    io:format("dirty ~p~n", [length(binary_to_term(Big))]),
    Port = open_port({spawn, "sh -c 'echo hi; sleep 0.1; echo there; exit 3'"},
                     [exit_status, stream]),
    io:format("port ~p~n", [collect(Port, [])]),
    {ok, L} = gen_tcp:listen(0, [binary, {active, false}, {reuseaddr, true}]),
    {ok, PortN} = inet:port(L),
    spawn(fun() -> {ok, S} = gen_tcp:accept(L), {ok, D} = gen_tcp:recv(S, 5),
                   gen_tcp:send(S, D), gen_tcp:close(S) end),
    {ok, C} = gen_tcp:connect("127.0.0.1", PortN, [binary, {active, false}]),
    ok = gen_tcp:send(C, <<"hello">>),
    {ok, Echo} = gen_tcp:recv(C, 5),
    io:format("echo ~p~n", [Echo]),
    io:format("cmd ~s", [os:cmd("echo cmd")]),
    io:format("done~n").
