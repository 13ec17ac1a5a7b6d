// Portcullis runs on Linux only (unix sockets, file modes); so do its benchmarks.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
