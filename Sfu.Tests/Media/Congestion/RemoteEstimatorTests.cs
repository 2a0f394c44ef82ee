using Sfu.Media.Congestion;

namespace Sfu.Tests.Media.Congestion;

public class RemoteEstimatorTests
{
    [Test]
    public void WithoutLoss_LeavesHalfAgainTheIncomingRate_SoTheSenderCanRampUp()
    {
        var estimator = new RemoteEstimator(4_000_000);
        Assert.That(estimator.Estimate, Is.EqualTo(RemoteEstimator.StartBitrate));

        Assert.That(estimator.Update(0, 0), Is.EqualTo(RemoteEstimator.StartBitrate), "not below the start bitrate before the sender began");
        Assert.That(estimator.Update(300_000, 0), Is.EqualTo(450_000));
        Assert.That(estimator.Update(450_000, 0.01), Is.EqualTo(675_000));
    }

    [Test]
    public void NeverAboveTheCeiling()
    {
        var estimator = new RemoteEstimator(1_000_000);

        Assert.That(estimator.Update(900_000, 0), Is.EqualTo(1_000_000));
        Assert.That(new RemoteEstimator(200_000).Estimate, Is.EqualTo(200_000), "a ceiling below the start bitrate");
    }

    [Test]
    public void ModerateLoss_Holds_HeavyLoss_DecreasesBelowTheIncomingRate()
    {
        var estimator = new RemoteEstimator(4_000_000);
        estimator.Update(1_000_000, 0);
        Assert.That(estimator.Estimate, Is.EqualTo(1_500_000));

        Assert.That(estimator.Update(1_400_000, 0.05), Is.EqualTo(1_500_000), "2-10% lost: hold");
        Assert.That(estimator.Update(1_400_000, 0.20), Is.EqualTo(1_260_000), "20% lost: the incoming rate less 10%");
        Assert.That(estimator.Update(40_000, 0.9), Is.EqualTo(RemoteEstimator.MinBitrate));
        Assert.That(estimator.Update(400_000, 0), Is.EqualTo(600_000), "recovers once the loss stops");
    }
}
