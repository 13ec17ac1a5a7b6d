namespace Portcullis.Core.Dns;

/// <summary>What the resolver's DNSSEC self-test lets a DANE verdict rest on.</summary>
public enum ResolverTrust
{
    /// <summary>The last self-test passed: AD bits can be believed.</summary>
    Validating,

    /// <summary>
    /// Answers without AD and has never validated since start: a resolver that does not do DNSSEC
    /// (a configuration error, logged loudly). Nothing is DNSSEC-secure through it.
    /// </summary>
    NotValidating,

    /// <summary>
    /// It cannot currently prove that it validates: it did not answer the self-test (outage, start-up
    /// before the resolver), or it validated earlier and stopped. Every DANE state is unknown.
    /// </summary>
    Unproven,
}
