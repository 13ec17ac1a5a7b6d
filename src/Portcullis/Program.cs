// Placeholder entry point so the skeleton builds; replaced by the real host.
return 0;
