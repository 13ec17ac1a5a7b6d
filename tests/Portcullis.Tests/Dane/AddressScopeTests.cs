using System.Net;
using Portcullis.Core.Dns;

namespace Portcullis.Tests.Dane;

public sealed class AddressScopeTests
{
    [Theory]
    [InlineData("93.184.215.14", true)]
    [InlineData("2606:2800:21f:cb07:6820:80da:af6b:8b2c", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.8.4.43", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]   // cloud metadata endpoints live here
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("192.0.2.1", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("::ffff:8.8.8.8", true)]
    public void Classifies_addresses(string address, bool isPublic) =>
        Assert.Equal(isPublic, AddressScope.IsPublic(IPAddress.Parse(address)));
}
