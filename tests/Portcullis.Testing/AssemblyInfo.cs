// The world drives Linux programs (nsd, unbound, postfix) and unix sockets.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
