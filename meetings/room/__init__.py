"""The meeting in the room: the big screen (投屏) and its links, the
speakers' queue, proxies (委托投票), live updates to every screen."""
