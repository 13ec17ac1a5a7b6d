using Portcullis.Core.Dane;

namespace Portcullis.Core.Policy;

/// <summary>
/// DANE takes precedence over MTA-STS (RFC 8461 §2): a DANE verdict or a DANE failure decides;
/// only a definite "no DANE" lets the MTA-STS answer through.
/// </summary>
public static class PolicyCombiner
{
    public static PolicyAnswer Combine(DaneResult dane, PolicyAnswer sts) => dane.Verdict switch
    {
        DaneVerdict.DaneOnly => new PolicyAnswer(Verdict.DaneOnly, "DANE: " + dane.Reason) { Domain = sts.Domain },
        DaneVerdict.Dane => new PolicyAnswer(Verdict.Dane, "DANE: " + dane.Reason) { Domain = sts.Domain },
        // Never fall back to MTA-STS on a DANE failure: that would let an attacker who breaks DNS downgrade.
        DaneVerdict.Temp => PolicyAnswer.Temp("DANE: " + dane.Reason),
        DaneVerdict.NullMx => PolicyAnswer.NoPolicy(dane.Reason),
        _ => sts with { Reason = $"no DANE ({dane.Reason}); MTA-STS: {sts.Reason}" },
    };
}
