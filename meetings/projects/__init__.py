"""What meetings decide (resolutions, 决议) and the follow-up projects (实事项目)
they open, tracked on the community's board (挂图作战) and rated by residents."""
